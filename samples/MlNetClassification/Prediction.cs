namespace MlNetClassification;

/// <summary>The trained pipeline's answer for an image.</summary>
public sealed class Prediction
{
    public string Label { get; set; } = "";

    public string PredictedLabel { get; set; } = "";
}
