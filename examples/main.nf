#!/usr/bin/env nextflow
/*
 * nfhot's example pipeline, in nf-core's shape: GC content of DNA sequences with the seqstats
 * package, from the example image (built by ../scripts and examples/Dockerfile, see the README).
 */
include { SEQSTATS } from './workflows/seqstats'

workflow NFHOT_EXAMPLE {
    take:
    sequences

    main:
    SEQSTATS ( sequences )
    report = SEQSTATS.out.report

    emit:
    report
}

workflow {
    NFHOT_EXAMPLE ( Channel.fromPath(params.input) )
}
