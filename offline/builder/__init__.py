"""The offline build of a kind cluster's parts: see offline/README.md."""
