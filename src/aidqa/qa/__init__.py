"""Question → answer: question analysis, follow-ups (``conversation``), answerers, grounding checks shared by every
answerer, the answer text, the figures table, and the ``Assistant`` that runs them in order. Lazy, because the
assistant pulls in torch and Chroma."""

__all__ = ["Assistant", "InvalidQuestion"]


def __getattr__(name: str):
    if name in __all__:
        from aidqa.qa import assistant

        return getattr(assistant, name)
    raise AttributeError(name)
