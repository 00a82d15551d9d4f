"""crucible-datasets: loaders, a verified cache, scorers, a code sandbox, sampling and checks."""

from crucible.datasets._catalog import DATASETS, DatasetSpec
from crucible.datasets._dataset import Dataset, content_hash
from crucible.datasets._download import default_cache_dir, download, download_file
from crucible.datasets._errors import ChecksumMismatchError, DownloadError, UnknownDatasetError
from crucible.datasets._loading import DataSource, InvalidArgumentError, load
from crucible.datasets._sampling import Split, bootstrap, k_fold, sample, train_test_split

__version__ = "0.1.0"

__all__ = [
    "DATASETS",
    "ChecksumMismatchError",
    "DataSource",
    "Dataset",
    "DatasetSpec",
    "DownloadError",
    "InvalidArgumentError",
    "Split",
    "UnknownDatasetError",
    "__version__",
    "bootstrap",
    "content_hash",
    "default_cache_dir",
    "download",
    "download_file",
    "k_fold",
    "load",
    "sample",
    "train_test_split",
]
