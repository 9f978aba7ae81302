process SEQSTATS_GC {
    tag "$sequences"
    label 'process_single'

    container "${ workflow.containerEngine == 'singularity' && !task.ext.singularity_pull_docker_container ?
        'https://depot.galaxyproject.org/singularity/seqstats:1.0.0--nfhot0' :
        'biocontainers/seqstats:1.0.0--nfhot0' }"

    input:
    path sequences

    output:
    path "*.gc.tsv", emit: gc

    script:
    def prefix = task.ext.prefix ?: 'sequences'
    def upper = task.ext.upper ? "| tr 'acgt' 'ACGT'" : ''
    """
    cat $sequences $upper | seqstats > ${prefix}.gc.tsv
    """
}
