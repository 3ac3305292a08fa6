using System.Text.Json.Serialization;

namespace Vlm2Vec.TorchSharp.Training;

/// <summary>
/// <c>trainer_state.json</c> of a checkpoint: where the run is (step, epoch, batch), what it has seen, the global RNG
/// state, the rows found unusable, and fingerprints of the options and data it belongs to. Together with the
/// trainable weights and the optimiser state it lets a run continue on exactly the uninterrupted trajectory.
/// </summary>
internal sealed class TrainerState
{
    public const string CurrentFormat = "vlm2vec-trainer-state/1";

    [JsonPropertyName("format")]
    public string Format { get; set; } = CurrentFormat;

    [JsonPropertyName("step")]
    public int Step { get; set; }

    [JsonPropertyName("total_steps")]
    public int TotalSteps { get; set; }

    /// <summary>Epoch of the next batch.</summary>
    [JsonPropertyName("epoch")]
    public int Epoch { get; set; }

    /// <summary>Index of the next batch within <see cref="Epoch"/>.</summary>
    [JsonPropertyName("batch_in_epoch")]
    public int BatchInEpoch { get; set; }

    [JsonPropertyName("examples_seen")]
    public long ExamplesSeen { get; set; }

    [JsonPropertyName("bad_rows")]
    public List<int> BadRows { get; set; } = [];

    /// <summary>Length in bytes of <c>training_log.jsonl</c> at this step (a resumed run cuts the log back to it).</summary>
    [JsonPropertyName("log_bytes")]
    public long LogBytes { get; set; }

    /// <summary>libtorch's default CPU generator state (base64).</summary>
    [JsonPropertyName("rng_state")]
    public string RngState { get; set; } = string.Empty;

    [JsonPropertyName("options_fingerprint")]
    public string OptionsFingerprint { get; set; } = string.Empty;

    [JsonPropertyName("data_fingerprint")]
    public string DataFingerprint { get; set; } = string.Empty;

    [JsonPropertyName("last_loss")]
    public double LastLoss { get; set; }
}
