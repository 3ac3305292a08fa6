namespace Vlm2Vec;

/// <summary>What one side (query or target) of an MMEB dataset is made of.</summary>
public enum MmebModality
{
    /// <summary>Text only (T).</summary>
    Text,

    /// <summary>One image and no content text (I); the instruction is still there.</summary>
    Image,

    /// <summary>One image plus content text (I+T).</summary>
    ImageAndText,
}
