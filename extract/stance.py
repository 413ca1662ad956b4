"""The stance of an evidence sentence: positive (something done well), negative (a shortfall, or an
action asked for) or neutral (narrative, or a statement with no judgement either way).

A recommendation is always negative. Otherwise the section sets the expectation (strengths positive,
weaknesses negative, narrative context neutral), and words of the other polarity overturn it only when
the section's own polarity is absent from the sentence: "Leaders have worked to ensure that EHC plans are
produced within the nationally set timescale." in a weakness section reads positive. In a weakness section
praise must also stand unqualified: a contrast, a change for the worse, work still to do or a hedge
("has fallen", "remains an area for improvement", "While ... is helpful, ...", "further work to do")
keeps the sentence negative. Of the 52 weakness sentences of the shared reports read as positive without
that rule, 24 were praise. Likewise a strength sentence reads negative only with a plain shortfall ("too",
"poor", "lack", "However", "not always"): of the 39 read as negative without that rule, 4 were criticism.
A strength sentence with such a shortfall and words of praise too reads negative when the praise falls
within a negation ("… not always implemented effectively"): 2 of the 4 such sentences in the shared
reports, both criticism."""

from __future__ import annotations

import re

POSITIVE, NEGATIVE, NEUTRAL = "positive", "negative", "neutral"
SECTION_STANCE = {"strength": POSITIVE, "weakness": NEGATIVE, "recommendation": NEGATIVE}

_NEGATIVE = re.compile(
    r"\b(not|no|nor|never|too|lack|lacks|lacking|limited|poor|poorly|inconsistent|inconsistently|variable|"
    r"delay|delays|delayed|late|later|wait|waits|waiting|concern|concerns|concerned|weak|weakness|weaknesses|"
    r"insufficient|gaps?|difficult|difficulty|difficulties|struggle|struggles|struggling|unable|fail|fails|"
    r"failed|failing|frustrat\w*|unclear|ineffective|overly|rising|increasing|high rates?|worse|below|"
    r"cannot|can't|don't|doesn't|isn't|aren't|haven't|hasn't|few|fewer|unmet|unaware|unsure|barriers?|"
    r"slow|slowly|absent|missing|out of date|backlog|shortages?|vacanc\w+|lost|reduced|low|lower|only|yet|"
    r"should|must|need to|needs to|more to do)\b",
    re.IGNORECASE,
)
_POSITIVE = re.compile(
    r"\b(effective|effectively|well|good|strong|strongly|improved|improving|improvement|timely|appreciated?|"
    r"valued?|positive|positively|successful|successfully|helpful|useful|high-quality|high quality|robust|"
    r"thorough|swift|swiftly|quickly|promptly|benefit|benefits|confident|confidence|ambitious|committed|"
    r"well-established|established|innovative|enhanced|strengthened|reduced waiting|within the nationally|"
    r"within the statutory|within 20 weeks|on time|clear|clearly|accurate|accurately|comprehensive|"
    r"thriving|happy|enjoy|enjoys|proud|praised|better|increased|worked to ensure|have worked|has worked)\b",
    re.IGNORECASE,
)


# what qualifies praise in a weakness section (used only there: in other sections these words are common
# in plain positive sentences, "less likely to be excluded", "still", "while")
_QUALIFIED = re.compile(
    r"\b(negative|negatively|inconsisten\w*|rarely|unregistered|work to do|further work|need improvement|"
    r"needs improvement|requires? improvement|areas? for improvement|challeng\w*|still|early (phase|stage)s?|"
    r"fallen|fell|declin\w*|deteriorat\w*|worsen\w*|variation|varying|variab\w*|hinder\w*|rely|relies|"
    r"less|without|would|limits?|outstrip\w*|isolation|issues?|however|although|while|whilst|despite|but|"
    r"remains?|risen|rises?|increas\w*)\b",
    re.IGNORECASE,
)


# what makes a strength-section sentence a criticism: a plain shortfall, not the words of a problem being
# met ("no waiting times", "support while they wait", "a reduction in delays", "the increasing demand")
_CRITICISM = re.compile(
    r"\b(too|poor|poorly|lack|lacks|lacking|inconsistent|inconsistently|insufficient|ineffective|unmet|"
    r"fail|fails|failed|failing|however|remains|not aware|not always|not yet|not enough)\b",
    re.IGNORECASE,
)


# praise inside a negation's scope is no praise: "do not contain the detail to manage transition effectively"
_NEGATOR = re.compile(r"\b(not|no|never|insufficient|lack\w*|without)\b", re.IGNORECASE)


def _praise_before_any_negation(sentence: str) -> bool:
    negation = _NEGATOR.search(sentence)
    return any(not negation or match.start() < negation.start() for match in _POSITIVE.finditer(sentence))


def stance(sentence: str, section: str | None) -> str:
    expected = SECTION_STANCE.get(section or "", NEUTRAL)
    if section == "recommendation":  # an action asked for, however its clause is worded
        return NEGATIVE
    negative, positive = bool(_NEGATIVE.search(sentence)), bool(_POSITIVE.search(sentence))
    if expected == NEGATIVE and positive and not negative and not _QUALIFIED.search(sentence):
        return POSITIVE
    if (
        expected == POSITIVE
        and negative
        and _CRITICISM.search(sentence)
        and not _praise_before_any_negation(sentence)
    ):
        return NEGATIVE
    if expected == NEUTRAL and negative != positive:
        return NEGATIVE if negative else POSITIVE
    return expected
