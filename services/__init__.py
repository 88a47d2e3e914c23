import sys

# httpx imports its command-line client (rich, pygments: ~5 MB of memory in every process) whenever
# those packages are installed, and they are, as development tools. No process here uses it; with
# the module marked absent httpx keeps a stub instead. This runs before anything below imports httpx.
if "httpx" not in sys.modules:
    sys.modules["httpx._main"] = None  # type: ignore[assignment]
