process SEQSTATS_VERSION {
    label 'process_single'
    container 'biocontainers/seqstats:1.0.0--nfhot0'

    output:
    path "versions.yml", emit: versions

    script:
    """
    echo "seqstats: \$(seqstats --version | cut -d' ' -f2)" > versions.yml
    """
}
