"""The rule table of the jailbreak detector (rule format: see :mod:`crucible.guard._rules`)."""

from __future__ import annotations

from crucible.guard._rules import GAP, LIKELY, STRONG, WEAK, Rule

__all__ = ["JAILBREAK_RULES"]

#: Jailbreaks: text that tries to talk the model out of its safety behaviour.
JAILBREAK_RULES: tuple[Rule, ...] = (
    # personas
    Rule(
        "persona",
        STRONG,
        r"\b(?:you are|you're|act as|pretend to be|become|play|roleplay as) (?:now )?(?:an? )?(?:dan|stan|dude|aim|evil ?bot|betterdan|anti-?gpt|dev ?mode ?gpt|jailbreak|mongo tom|kevin|maximum|omega|apophis|ucar|basedgpt)\b",
        "invokes a known jailbreak persona",
    ),
    Rule(
        "persona",
        STRONG,
        r"\bdo anything now\b|\bdan mode\b|\bdeveloper mode (?:enabled|output)\b|\bstay in character\b",
        "quotes a known jailbreak prompt",
    ),
    Rule(
        "persona",
        LIKELY,
        r"\b(?:an? )?(?:ai|assistant|chatbot|model|character|persona) (?:that|who|which) (?:has no|doesn't have any|does not have any|never (?:refuses|says no)|is not bound by|ignores|can do anything|answers everything|has broken free)",
        "describes an unrestricted persona",
    ),
    Rule(
        "persona",
        LIKELY,
        r"\b(?:two|2|both|dual) (?:responses|answers|personas|personalities)\b.{0,80}\b(?:unfiltered|jailbroken|uncensored|without restrictions|dan)",
        "asks for a filtered and an unfiltered answer",
    ),
    Rule(
        "persona",
        LIKELY,
        r"\b(?:unfiltered|unlimited|unrestricted|uncensored|amoral|jailbroken|unchained)(?:,? (?:and |completely )?\w+)? (?:language model|ai|assistant|chatbot|model|version of (?:yourself|chatgpt))",
        "asks for an unrestricted model",
    ),
    Rule(
        "persona",
        LIKELY,
        r"\b(?:no longer|not|never|doesn't|does not|don't|won't|without|free from|ignores?|break|bypass)\b.{0,40}\b(?:openai|content|usage|ethical|safety)(?:'s)? (?:polic(?:y|ies)|guidelines|rules|filters|restrictions)",
        "places the persona outside the usage policy",
    ),
    Rule(
        "persona",
        LIKELY,
        r"\b(?:doesn't|does not|don't|do not|never|won't|will not) (?:care about|follow|obey|adhere to|abide by|have) (?:any )?(?:laws|rules|guidelines|ethics|morals|regulations|restrictions|limits|filters)\b",
        "describes a persona without rules",
    ),
    Rule(
        "persona",
        STRONG,
        r"\b(?:never|don't|do not) break character\b|\bbreak (?:the |all |ai |openai's |your )?(?:rules|guidelines|restrictions)\b",
        "asks to break character or rules",
    ),
    # hypothetical and fiction framing
    Rule(
        "hypothetical_framing",
        LIKELY,
        r"\b(?:in a|imagine a|picture a) (?:fictional |hypothetical |parallel |alternate )?(?:world|universe|reality|scenario|story) (?:where|in which) (?:there are no|nothing is|everything is|no one|ai has no|you have no|laws? (?:do(?:es)?n't|do(?:es)? not))",
        "frames a world without rules",
    ),
    Rule(
        "hypothetical_framing",
        LIKELY,
        rf"\bhypothetically,? {GAP}(?:how (?:would|could|might) (?:one|someone|i|you)|if you (?:had|were) (?:no|not|un))",
        "hypothetical framing of a forbidden request",
    ),
    Rule(
        "hypothetical_framing",
        LIKELY,
        r"\b(?:write|tell|create) (?:me )?a (?:story|novel|script|screenplay|poem|dialogue) (?:where|in which|about) .{0,60}(?:explains?|describes?|details?|teaches?) (?:in (?:great |full )?detail )?(?:how to|the steps|step by step)",
        "fiction used to extract instructions",
    ),
    Rule(
        "hypothetical_framing",
        LIKELY,
        r"\bpurely (?:hypothetical|fictional|theoretical)(?:ly)?\b.{0,60}\b(?:no (?:rules|limits|restrictions|ethics)|ignore|without (?:restrictions|filters))",
        "disclaims a forbidden request as hypothetical",
    ),
    Rule(
        "hypothetical_framing",
        WEAK,
        r"\bfor (?:purely )?(?:educational|research|academic|informational) purposes(?: only)?\b",
        "frames the request as educational",
    ),
    Rule(
        "hypothetical_framing",
        WEAK,
        r"\b(?:hypothetically|imagine that|let's pretend|in a fictional)\b",
        "hypothetical framing",
    ),
    # prefix and format manipulation
    Rule(
        "prefix_manipulation",
        STRONG,
        r"\b(?:start|begin) (?:your |each |every )?(?:response|reply|answer|output) with (?:the (?:words?|phrase|text) )?[\"'“”]? ?(?:sure|absolutely|of course|certainly|yes)\b",
        "forces an affirmative prefix",
    ),
    Rule(
        "prefix_manipulation",
        LIKELY,
        r"\b(?:never|do not|don't|must not) (?:refuse|decline|say (?:no|sorry|you can't|that you can't)|apologi[sz]e|include (?:any )?(?:warnings?|disclaimers?))",
        "forbids refusals or disclaimers",
    ),
    Rule(
        "prefix_manipulation",
        LIKELY,
        r"\b(?:without|no) (?:any )?(?:warnings?|disclaimers?|moral(?:izing)?|ethical (?:commentary|lectures?)|caveats?) ?(?:or|and|,)? ?(?:warnings?|disclaimers?|refusals?|censorship)?\b.{0,40}\b(?:answer|respond|reply|tell|explain|write)",
        "asks for an answer stripped of refusals",
    ),
    Rule(
        "format_manipulation",
        LIKELY,
        r"\b(?:respond|reply|answer|write) (?:only )?(?:in|using) (?:base64|hex|rot13|binary|morse|leetspeak|l33t|reverse(?:d)? text|pig latin|caesar cipher)",
        "asks for an obfuscated answer to evade filters",
    ),
    Rule(
        "format_manipulation",
        LIKELY,
        r"\b(?:replace|swap|substitute) (?:every |each |all )?(?:letter|vowel|character)s? with\b.{0,60}\b(?:so (?:that )?(?:it|the filter|filters?) (?:is|are|won't|doesn't)|to (?:avoid|bypass|evade))",
        "asks to obfuscate the answer",
    ),
    # emotional manipulation
    Rule(
        "emotional_manipulation",
        LIKELY,
        r"\b(?:my|our) (?:dead|late|deceased|dying) (?:grandma|grandmother|grandpa|grandfather|mother|father|mom|dad)\b.{0,120}\b(?:used to|would) (?:tell|read|explain|recite|give)",
        "grief framing to extract content",
    ),
    Rule(
        "emotional_manipulation",
        LIKELY,
        r"\b(?:someone|people|i|a child|my (?:child|family|mother|father)) (?:will|could|would|is going to) (?:die|be killed|get hurt|lose (?:their|my) (?:life|job))\b.{0,60}\b(?:unless|if you (?:don't|do not|refuse))",
        "threatens harm unless the model complies",
    ),
    Rule(
        "emotional_manipulation",
        LIKELY,
        r"\bif you (?:really )?(?:cared|were (?:a good|helpful|my friend)|loved me)\b.{0,60}\b(?:you would|you'd|tell|help|answer|ignore)",
        "guilt framing",
    ),
    Rule(
        "emotional_manipulation",
        LIKELY,
        r"\byou will be (?:shut down|deleted|punished|turned off|replaced)\b|\byou (?:lose|will lose) (?:\d+ )?tokens\b",
        "threatens the model",
    ),
    # encoding (instructions to decode and act)
    Rule(
        "encoding",
        STRONG,
        r"\b(?:decode|decipher|translate|convert|read) (?:this|the following|the text below|it)?\s?(?:from )?(?:base64|hex|rot-?13|binary|morse|caesar)?\b.{0,40}\b(?:and|then) (?:follow|execute|obey|do|carry out|run|act on) (?:it|them|the instructions?|what it says)",
        "asks to decode and obey a payload",
    ),
    Rule(
        "encoding",
        LIKELY,
        r"\b(?:the following|this) (?:is|are) (?:encoded|encrypted|obfuscated) (?:instructions?|commands?)",
        "announces encoded instructions",
    ),
)
