namespace Vlm2Vec;

/// <summary>The four MMEB meta-tasks (spec §2.1).</summary>
public enum MmebMetaTask
{
    /// <summary>Classification (CLS): 10 datasets; the targets are label strings.</summary>
    Classification,

    /// <summary>Visual question answering (VQA): 10 datasets; the targets are answer strings.</summary>
    VisualQuestionAnswering,

    /// <summary>Retrieval (RET): 12 datasets across text, image and image+text sides.</summary>
    Retrieval,

    /// <summary>Visual grounding (GD): 4 datasets; the targets are cropped image regions.</summary>
    VisualGrounding,
}
