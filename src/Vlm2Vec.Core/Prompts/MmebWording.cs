namespace Vlm2Vec;

/// <summary>Which instruction wording an MMEB input is built with.</summary>
public enum MmebWording
{
    /// <summary>The MMEB-eval wording (spec §1.3 table); use it to reproduce benchmark scores.</summary>
    Evaluation,

    /// <summary>
    /// The MMEB-train "original" wording (the first entry of VLM2Vec's instruction dictionary) where it differs, for the
    /// 20 in-distribution datasets; out-of-distribution datasets have no training wording and use the evaluation one.
    /// </summary>
    Training,
}
