"""What a stated duration measures, read from the words around it in its sentence.

  wait      a person waits for a service: "wait up to two years for an assessment", "a 13-month wait",
            "the average waiting time ... is 75 weeks", "a six-month delay in reviewing these"
  deadline  a statutory or target time limit: "within the 20-week statutory timescale",
            "EHC plans that are issued within 20 weeks"
  period    a stretch of time something happened over: "over the last two years", "in the past 12 months"
  horizon   the span of a plan or strategy: "a five-year strategy", "over the next three years"
  age       a child's age that slipped past the age rules: "nine to 12 month ... reviews"
  other     anything else: "a six-week course", "travel more than 50 minutes", "a 24-hour service"

The rules, in order: the noun a duration qualifies when it is written as an adjective ("13-month wait",
"five year strategy"); "the last"/"the next" just before it; a time limit ("within" in a sentence about
a statutory timescale or issuing plans); a word of waiting in the sentence, or "within" with "seen" or
"referral"; otherwise other.
"""

from __future__ import annotations

from spacy.tokens import Span

DURATION_KINDS = ("wait", "deadline", "period", "horizon", "age", "other")

# the noun an attributive duration qualifies ("a 13-month wait") -> kind
HEAD_NOUNS = {
    **dict.fromkeys(["wait", "waits", "waiting", "delay", "delays", "backlog"], "wait"),
    **dict.fromkeys(
        ["timescale", "timescales", "timeframe", "timeframes", "target", "targets", "deadline", "limit"],
        "deadline",
    ),
    **dict.fromkeys(["strategy", "strategies", "plan", "plans", "programme", "vision", "roadmap"], "horizon"),
    **dict.fromkeys(["review", "reviews", "check", "checks", "old", "olds"], "age"),
    **dict.fromkeys(
        ["course", "courses", "service", "services", "support", "placement", "contract"], "other"
    ),
}
HEAD_WINDOW = 8  # tokens after the duration in which its noun may be found ("five year ‘SEND ... strategy’")
PHRASE_ENDS = {",", ".", ";", ":", "(", ")", "—", "–"}
PAST = {"last", "past", "previous", "preceding"}
FUTURE = {"next", "coming", "following"}
TIME_LIMIT_WORDS = {"statutory", "timescale", "timescales", "timeframe", "timeframes", "target", "deadline"}
ISSUE_WORDS = {"issue", "issued", "issuing", "completed", "finalised", "finalising"}  # of EHC plans
SEEN_WORDS = {"seen", "referral"}  # "seen within 18 weeks of referral": the wait for a service
WAIT_WORDS = {"wait", "waits", "waited", "waiting", "delay", "delays", "delayed", "backlog"}


def duration_kind(span: Span) -> str:
    """The kind of the duration `span` (its number and unit, qualifier included)."""
    head = _head_noun(span)
    if head is not None:
        return head
    before = {token.lower_ for token in span.doc[max(span.sent.start, span.start - 2) : span.start]}
    if before & PAST:
        return "period"
    if before & FUTURE:
        return "horizon"
    words = {token.lower_ for token in span.sent}
    within = span[0].lower_ == "within"
    if within and (words & (TIME_LIMIT_WORDS | ISSUE_WORDS) or "time frame" in span.sent.text.lower()):
        return "deadline"
    if words & WAIT_WORDS or (within and words & SEEN_WORDS):
        return "wait"
    return "other"


def _head_noun(span: Span) -> str | None:
    """The kind named by the noun after an attributive duration: "20-week", "12 month", "five year"."""
    unit = span[-1]
    if unit.lower_.endswith("s") and span[-2].text != "-":  # "two years", not "two-year"
        return None
    doc = span.doc
    for token in doc[span.end : min(span.end + HEAD_WINDOW, span.sent.end)]:
        if token.text in PHRASE_ENDS:
            return None
        if token.lower_ == "time" and token.i + 1 < len(doc) and doc[token.i + 1].lower_ == "frame":
            return "deadline"
        if token.lower_ in HEAD_NOUNS:
            return HEAD_NOUNS[token.lower_]
    return None
