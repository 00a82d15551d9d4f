"""Print the first ```python block of a README (the example scripts/check-isolation runs)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

text = Path(sys.argv[1]).read_text(encoding="utf-8")
match = re.search(r"^```python\n(.*?)^```", text, re.S | re.M)
if match is None:
    raise SystemExit(f"{sys.argv[1]} has no ```python example block")
print(match.group(1))
