process COUNT_LINES {
    label 'process_single'
    // Another tool's image: it has no seqstats, so nfhot leaves it alone.
    container 'biocontainers/coreutils:9.1--nfhot0'

    input:
    path sequences

    output:
    stdout

    script:
    """
    wc -l < $sequences
    """
}
