namespace Vlm2Vec.Preprocessing;

/// <summary>Where padding goes in a collated batch.</summary>
public enum PaddingSide
{
    /// <summary>Pad on the left (VLM2Vec's choice for Qwen2-VL); the pooled token is the last column.</summary>
    Left,

    /// <summary>Pad on the right; the pooled token is each row's last real token.</summary>
    Right,
}
