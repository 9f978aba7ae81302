"""nfhot's Python: what runs under an image's interpreters (and this machine's python3), shipped as one zipapp, nfhot.pyz."""
