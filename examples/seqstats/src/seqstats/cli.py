import argparse
import sys

from . import __version__, gc_content


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="seqstats", description="GC content of DNA sequences")
    parser.add_argument("sequences", nargs="*", help="sequences (default: read lines from stdin)")
    parser.add_argument("--version", action="version", version=f"seqstats {__version__}")
    args = parser.parse_args(argv)
    for seq in args.sequences or (line.strip() for line in sys.stdin):
        print(f"{seq}\tGC={gc_content(seq):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
