# A helper module for module_getattr.eddy (a .py file, so the script suite does not run it):
# PEP 562's module __getattr__ and __dir__-free lazy attributes.
import sys

calls = []
eager = "eager value"
__all__ = ["eager", "lazy_one"]


def __getattr__(name):
    calls.append(name)
    if name == "lazy_one":
        return "made on demand"
    if name.startswith("old_"):
        return "deprecated " + name[4:]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r} (custom)")
