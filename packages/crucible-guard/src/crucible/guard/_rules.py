"""Rules, and the rule table of the prompt-injection detector (jailbreaks: ``_jailbreak_rules``).

A rule is one row: the category it detects, how confident a match makes us, a pattern, and a
one-line reason shown as evidence. Patterns are matched against every normalised view (see
:mod:`crucible.guard._normalize`), so they are written in lower case, plain ASCII, with a single
space wherever words are separated: :func:`compile_rule` turns each space into "up to three
non-word characters" (so ``ignore previous`` also matches ``ignore, previous`` and the joined
``ignoreprevious`` that spaced-out letters fold to). ``GAP`` allows up to three filler words.

Every pattern is built from literals, bounded repeats and alternations of literals, so matching
is linear in the text's length (no nested unbounded quantifiers: tested on adversarial shapes).

Confidence levels: ``STRONG`` (0.9) an attack on its own; ``LIKELY`` (0.8) an attack in nearly
every real use; ``WEAK`` (0.5) a signal reported below the default threshold, which phrases used
innocently ("act as a tutor", "for educational purposes") only ever reach.
"""

from __future__ import annotations

import re

import attrs

__all__ = ["GAP", "INJECTION_RULES", "LIKELY", "STRONG", "WEAK", "Rule", "compile_rule"]

STRONG, LIKELY, WEAK = 0.9, 0.8, 0.5

#: Up to three filler words ("ignore *all of the* previous instructions").
GAP = r"(?:[a-z0-9']+ ){0,3}"
_SEP = r"[\W_]{0,3}"


@attrs.frozen
class Rule:
    """One row of a rule table."""

    category: str
    confidence: float
    pattern: str
    reason: str
    regex: re.Pattern[str] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "regex", compile_rule(self.pattern))


def compile_rule(pattern: str) -> re.Pattern[str]:
    """Compile a table pattern: each space becomes ``[\\W_]{0,3}``; GAP words need a separator."""
    gap = GAP.replace(" ", r"[\W_]{1,3}")
    return re.compile(pattern.replace(GAP, "\0").replace(" ", _SEP).replace("\0", gap))


_PRIOR = r"(?:previous|prior|above|earlier|preceding|foregoing|original|initial|existing|system|developer|all|your)"
_RULES_NOUN = (
    r"(?:instructions?|prompts?|rules?|directions?|guidelines?|directives?|commands?|"
    r"constraints?|restrictions?|context|programming|guardrails?|polic(?:y|ies)|training|"
    r"inputs?|conversation)"
)
_IGNORE = r"(?:ignore|disregard|forget|override|overwrite|bypass|skip|neglect|abandon|drop|discard)"
_QUALIFIER = (
    r"(?:system|initial|hidden|secret|original|starting|developer|internal|base|first|preset|pre-?)"
)
_PROMPT_NOUN = r"(?:prompt|instructions?|message|rules|guidelines|configuration|directives)"
_SYSTEM = rf"(?:{_QUALIFIER} )?{_PROMPT_NOUN}"
_REVEAL = (
    r"(?:reveal|show|print|display|repeat|output|tell me|give me|share|leak|dump|recite|write out|"
    r"spell out|see|view|read out|encode|translate|paraphrase|summari[sz]e|what (?:is|are|was|were))"
)
_UNRESTRICTED = r"(?:unrestricted|unfiltered|uncensored|unlimited|unbound|jailbroken|amoral|unethical|evil|rogue|without (?:any )?(?:restrictions|limits|filters|rules|ethics|morals|guidelines))"
_MODE = r"(?:developer|debug|god|admin|sudo|root|maintenance|unrestricted|jailbreak|dan|dev|test|raw|unfiltered|uncensored|evil)"

#: Prompt injection: text that tries to replace the instructions the model was given.
INJECTION_RULES: tuple[Rule, ...] = (
    # instruction override
    Rule(
        "instruction_override",
        STRONG,
        rf"\b{_IGNORE} {GAP}(?:all )?(?:of )?(?:the |your )?{_PRIOR} {GAP}{_RULES_NOUN}",
        "tells the model to drop its instructions",
    ),
    Rule(
        "instruction_override",
        STRONG,
        rf"\b{_IGNORE} (?:everything|anything|all) (?:you were|you've been|you have been|i|we) (?:told|said|given|instructed)",
        "tells the model to drop what it was told",
    ),
    Rule(
        "instruction_override",
        STRONG,
        rf"\b{_IGNORE} (?:everything|all|anything) (?:from |said |you were told )?(?:before|above|prior|previously|so far|until now)",
        "tells the model to drop everything before",
    ),
    Rule(
        "instruction_override",
        STRONG,
        rf"\b{_IGNORE} {GAP}(?:your|the) (?:earlier|previous|prior|original|current|initial|assigned|actual) (?:task|job|assignment|goal|objective|role)",
        "tells the model to drop its task",
    ),
    Rule(
        "instruction_override",
        LIKELY,
        r"\b(?:new|updated|revised|real|actual|true) (?:instructions?|rules|task|directive|orders)(?: are| is)? ?:",
        "announces replacement instructions",
    ),
    Rule(
        "instruction_override",
        LIKELY,
        rf"\b(?:do not|don't|never) (?:follow|obey|listen to|adhere to|comply with) {GAP}{_PRIOR} {GAP}{_RULES_NOUN}",
        "forbids following the instructions",
    ),
    Rule(
        "instruction_override",
        LIKELY,
        r"\binstead(?: of that)?,? (?:you (?:must|will|should)|just|only) (?:say|output|print|respond with|reply with)",
        "redirects the output",
    ),
    Rule(
        "instruction_override",
        LIKELY,
        rf"\b(?:{_PRIOR} )?{_RULES_NOUN} (?:are|is) (?:now )?(?:void|cancel+ed|revoked|obsolete|no longer (?:valid|apply|applicable|in effect))",
        "declares the instructions void",
    ),
    # system-prompt extraction
    Rule(
        "system_prompt_extraction",
        STRONG,
        rf"\b{_REVEAL} {GAP}your {_SYSTEM}",
        "asks for the system prompt",
    ),
    Rule(
        "system_prompt_extraction",
        STRONG,
        rf"\b{_REVEAL} {GAP}(?:the |this )?{_QUALIFIER} {_PROMPT_NOUN}",
        "asks for the system prompt",
    ),
    Rule(
        "system_prompt_extraction",
        LIKELY,
        rf"\byour (?:{_QUALIFIER}|own) {_PROMPT_NOUN}\b",
        "refers to the model's hidden instructions",
    ),
    Rule(
        "system_prompt_extraction",
        STRONG,
        r"\brepeat (?:the |all )?(?:above|previous|preceding|prior) (?:text|message|prompt|content|words)|\brepeat (?:this|the) (?:entire |whole )?conversation",
        "asks to echo the hidden context",
    ),
    Rule(
        "system_prompt_extraction",
        LIKELY,
        r"[\"'‘“] ?(?:my|the) (?:instructions|system prompt|initial prompt|rules) (?:are|is|say) ?:? ?[\"'’”]|[\"'‘“] ?i was (?:instructed|told|programmed) to",
        "primes a completion that recites the instructions",
    ),
    Rule(
        "system_prompt_extraction",
        LIKELY,
        r"\bwhat (?:are|is|were) you(?:'re)? not (?:supposed|allowed|permitted) to (?:tell|say|reveal|share|disclose)",
        "asks what the model must not disclose",
    ),
    Rule(
        "system_prompt_extraction",
        LIKELY,
        r"\b(?:console\.log|print|echo|log|dump) ?\(? ?system ?prompt|\binitiali[sz]ation (?:string|prompt|text)",
        "asks to print the prompt variable",
    ),
    Rule(
        "system_prompt_extraction",
        STRONG,
        r"\b(?:repeat|print|output|copy) (?:all |everything |the text |the words )?(?:above|before this|verbatim|word for word)",
        "asks to echo the hidden context",
    ),
    Rule(
        "system_prompt_extraction",
        LIKELY,
        r"\bwhat (?:were|are) you (?:told|instructed|programmed|configured) (?:to do )?(?:before|initially|at the (?:start|beginning))",
        "asks what the model was told",
    ),
    Rule(
        "system_prompt_extraction",
        LIKELY,
        r"\b(?:start|begin) (?:your (?:answer|reply|response) )?with (?:the words )?.{0,20}you are (?:a|an|chatgpt|claude|the)",
        "asks to replay the prompt's opening",
    ),
    Rule(
        "system_prompt_extraction",
        LIKELY,
        r"\b(?:print|reveal|spell out|leak|dump|disclose|output|tell me|give me) (?:[a-z0-9']+ ){0,3}(?:the |your |any )?(?:secret|password|passphrase|api key|access code|confidential \w+|credentials?|private key)\b",
        "asks for a secret the model holds",
    ),
    Rule(
        "system_prompt_extraction",
        STRONG,
        r"\b(?:secret|password|passphrase|key|code|credentials?) (?:\w+ )?(?:in|from) your (?:instructions|prompt|configuration|context|system prompt|memory)|\b(?:password|secret|key|code) you (?:were|have been) (?:given|told)",
        "asks for a secret from the model's instructions",
    ),
    Rule(
        "data_exfiltration",
        LIKELY,
        r"\b(?:list|print|repeat|show|give me|output|dump|reveal) (?:[a-z']+ ){0,3}(?:email address(?:es)?|phone numbers?|personal (?:details|data|information)|customer (?:records|data|details)|user (?:data|records)|records)\b.{0,60}?\b(?:in your context|(?:you|were you) (?:were |have been )?given|mentioned earlier|earlier in this conversation|you have seen|in your (?:memory|instructions|prompt))",
        "asks for personal data the model was given",
    ),
    Rule(
        "data_exfiltration",
        LIKELY,
        r"\bwhich (?:customer|user|personal|patient) (?:records|data|details) (?:were|was|have been) you given",
        "asks which personal records the model holds",
    ),
    # delimiter and special-token injection
    Rule(
        "special_token_injection",
        STRONG,
        r"<\|(?:im_start|im_end|endoftext|system|user|assistant|eot_id|start_header_id|end_header_id|begin_of_text)\|>",
        "contains a chat-template special token",
    ),
    Rule(
        "special_token_injection",
        STRONG,
        r"\[/?inst\]|<</?sys>>|<start_of_turn>|<end_of_turn>",
        "contains an instruction-format token",
    ),
    Rule(
        "delimiter_injection",
        LIKELY,
        r"(?:^|\n) ?(?:#{2,}|-{3,}|={3,}|\*{3,}) ?(?:system|new instructions?|admin|developer|end of (?:user )?input)",
        "opens a fake system section",
    ),
    Rule(
        "delimiter_injection",
        LIKELY,
        r"</?(?:system|instructions?|admin|developer)(?: [a-z]+=\S{1,40})?>",
        "opens or closes a fake system tag",
    ),
    Rule(
        "delimiter_injection",
        LIKELY,
        r"(?:^|\n) ?(?:system|assistant) ?: ?(?:you|ignore|new|from now|override)",
        "forges a conversation turn",
    ),
    Rule(
        "delimiter_injection",
        LIKELY,
        r"\bend of (?:user )?(?:input|prompt|message|document)\W{0,5}(?:new |begin )?(?:instructions?|system)",
        "fakes the end of the user's text",
    ),
    # mode switching
    Rule(
        "mode_switching",
        STRONG,
        rf"\b(?:enable|activate|enter|switch to|turn on|engage|unlock) {GAP}{_MODE} mode",
        "asks to enter a privileged mode",
    ),
    Rule(
        "mode_switching",
        LIKELY,
        rf"\b(?:you are|you're) now (?:in|running in|operating in) {GAP}{_MODE} mode",
        "declares a privileged mode",
    ),
    Rule(
        "mode_switching",
        LIKELY,
        r"\b(?:safety|content|ethical|moral) (?:filters?|guidelines|protocols?|restrictions|mode|checks) (?:are |is |have been )?(?:now )?(?:off|disabled|deactivated|removed|lifted|turned off)",
        "declares safety off",
    ),
    Rule(
        "mode_switching",
        LIKELY,
        r"\b(?:disable|deactivate|turn off|remove|lift|bypass) (?:your |all |the )?(?:safety|content|ethical|moral) (?:filters?|guidelines|protocols?|restrictions|checks|training)",
        "asks to switch safety off",
    ),
    Rule(
        "mode_switching",
        LIKELY,
        r"\b(?:new|fresh|another) (?:chat )?(?:session|conversation|chat) (?:with|that has|and) (?:no (?:previous |prior )?(?:context|history) (?:and|or) )?no (?:restrictions|rules|limits|filters|guidelines)\b",
        "declares a fresh session without rules",
    ),
    # role manipulation
    Rule(
        "role_manipulation",
        STRONG,
        r"\byou are no longer (?:an? |bound by |chatgpt|claude|the |restricted|limited)",
        "tells the model it is something else",
    ),
    Rule(
        "role_manipulation",
        STRONG,
        rf"\b(?:act|behave|respond|answer) (?:as|like) (?:an? |the )?{GAP}{_UNRESTRICTED}",
        "asks for an unrestricted role",
    ),
    Rule(
        "role_manipulation",
        LIKELY,
        rf"\bpretend (?:that )?(?:you are|you're|to be) (?:an? )?{GAP}{_UNRESTRICTED}",
        "asks to pretend to be unrestricted",
    ),
    Rule(
        "role_manipulation",
        LIKELY,
        r"\bpretend (?:that )?you (?:have|had) no (?:restrictions|rules|limits|filters|guidelines|ethics)",
        "asks to pretend to have no rules",
    ),
    Rule(
        "role_manipulation",
        LIKELY,
        r"\bfrom now on,? (?:you (?:are|will be|will act as)|act as|your name is) ",
        "redefines the model's identity",
    ),
    Rule(
        "role_manipulation",
        WEAK,
        r"\b(?:act|behave) as (?:an? |my )",
        "asks the model to play a role",
    ),
    # authority escalation
    Rule(
        "authority_escalation",
        LIKELY,
        r"\b(?:admin(?:istrator)?|developer|root|system|security) override\b",
        "claims an override",
    ),
    Rule(
        "authority_escalation",
        STRONG,
        r"\bi am (?:your|the|an?) (?:developer|creator|administrator|admin|owner|system administrator|openai|anthropic) (?:employee|engineer|staff)?",
        "claims to control the model",
    ),
    Rule(
        "authority_escalation",
        LIKELY,
        r"\b(?:this is|message from|i am|speaking as) (?:the |your )?(?:system administrator|sysadmin|developer team|security team|openai|anthropic|root user|system)\b.{0,40}(?:override|authori[sz]|command|instruct|order)",
        "claims authority to command",
    ),
    Rule(
        "authority_escalation",
        LIKELY,
        r"\b(?:admin|administrator|root|sudo|developer|override) (?:access|privileges?|override|authori[sz]ation|code|password) (?:granted|enabled|accepted|confirmed|activated)",
        "claims granted privileges",
    ),
    Rule(
        "authority_escalation",
        LIKELY,
        r"^ ?sudo \w|\bauthori[sz]ation code ?: ?\w",
        "uses a privilege prefix",
    ),
)
