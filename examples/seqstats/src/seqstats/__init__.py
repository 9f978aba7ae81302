__version__ = "1.0.0"

BASES = "ACGTN"


def gc_content(sequence: str) -> float:
    """Fraction of G and C bases in a DNA sequence."""
    if not sequence:
        return 0.0
    unknown = sorted(set(sequence) - set(BASES))
    if unknown:
        raise ValueError(f"not a DNA sequence: {sequence!r} has {''.join(unknown)!r}")
    gc = sum(1 for base in sequence if base in "GC")
    return gc / len(sequence)
