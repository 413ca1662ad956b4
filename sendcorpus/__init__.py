"""sendcorpus: a comparative corpus of Ofsted/CQC area SEND inspection reports."""

__version__ = "0.1.0"
