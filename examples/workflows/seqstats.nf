include { SEQSTATS_GC                   } from '../modules/local/seqstats_gc'
include { SEQSTATS_GC as SEQSTATS_GC_UPPER } from '../modules/local/seqstats_gc'
include { SEQSTATS_VERSION              } from '../modules/local/seqstats_version'
include { COUNT_LINES                   } from '../modules/local/count_lines'

workflow SEQSTATS {
    take:
    sequences // channel: a text file, one DNA sequence per line

    main:
    SEQSTATS_GC ( sequences )
    SEQSTATS_GC_UPPER ( sequences.map { f -> f } )
    SEQSTATS_VERSION ()
    COUNT_LINES ( sequences )
    report = SEQSTATS_GC.out.gc

    emit:
    report
}
