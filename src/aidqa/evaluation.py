"""Deprecated alias of ``aidqa.eval``: the evaluation moved into its own package. Kept so that scripts written
against ``aidqa.evaluation`` (documented in 0.1) keep working; it will be removed in a later release."""

import warnings

from aidqa.eval import __all__, dataset, reports, runner, scoring  # noqa: F401

# The public names and the helpers that still exist under the same name (the HTML helpers became a template).
for _module in (dataset, scoring, runner, reports):
    globals().update({k: v for k, v in vars(_module).items() if not k.startswith("__")})

warnings.warn("aidqa.evaluation is deprecated; import aidqa.eval instead", DeprecationWarning, stacklevel=2)
