using System.Text.Json;
using System.Text.Json.Serialization;

namespace Vlm2Vec.ML;

/// <summary>
/// Everything a Vlm2Vec embedding transformer needs to run, as one JSON document. It travels inside the saved ML.NET
/// model (as the value of a <c>MapValue</c> step, see <see cref="SaveableChain"/>), so that a model loaded in another
/// process finds the model folder, the engine and the column semantics again without the original objects.
/// </summary>
internal sealed record EmbeddingSpec
{
    public const int CurrentFormatVersion = 1;

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public int FormatVersion { get; init; } = CurrentFormatVersion;

    /// <summary>The absolute model folder; null when the transformer wraps an encoder object.</summary>
    public string? ModelPath { get; init; }

    /// <summary>Assembly-qualified type name of the <see cref="IVlm2VecEncoderFactory"/> that opens <see cref="ModelPath"/>.</summary>
    public string? EncoderFactoryType { get; init; }

    /// <summary>Key of an in-process encoder object (<see cref="ModelSessions.RegisterInstance"/>); never saved.</summary>
    public string? EncoderInstanceKey { get; init; }

    public string? Device { get; init; }

    /// <summary>Open on the CPU when the engine refuses <see cref="Device"/> (<c>MLContext.FallbackToCpu</c>).</summary>
    public bool FallbackToCpu { get; init; }

    public PreprocessorOptions Preprocessing { get; init; } = new();

    public EmbedderOptions Batching { get; init; } = new();

    /// <summary>The model's embedding dimension (checked against the model when it is opened again).</summary>
    public int Dimension { get; init; }

    public string ModelId { get; init; } = "";

    public ImageSourceKind Image { get; init; }

    public string? ImageColumn { get; init; }

    public string? ImageFolder { get; init; }

    public string? TextColumn { get; init; }

    public string? InstructionColumn { get; init; }

    public string? Instruction { get; init; }

    public EmbeddingRole Role { get; init; }

    public string OutputColumn { get; init; } = "Embedding";

    public Vlm2VecRowErrorHandling RowErrors { get; init; }

    /// <summary>Rows a batching cursor reads ahead (<see cref="Vlm2VecEmbeddingOptions.BatchSize"/>).</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>The part of the spec that identifies an open model (one encoder per distinct value).</summary>
    [JsonIgnore]
    public string ModelKey => EncoderInstanceKey is not null
        ? "instance:" + EncoderInstanceKey
        : JsonSerializer.Serialize(new { ModelPath, EncoderFactoryType, Device, FallbackToCpu, Preprocessing }, Json);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <exception cref="ModelFormatException">The text is not a spec this version can read.</exception>
    public static EmbeddingSpec Parse(string json)
    {
        EmbeddingSpec? spec;
        try
        {
            spec = JsonSerializer.Deserialize<EmbeddingSpec>(json, Json);
        }
        catch (JsonException ex)
        {
            throw new ModelFormatException($"The Vlm2Vec settings stored in the ML.NET model are not valid JSON: {ex.Message}", ex);
        }

        if (spec is null || spec.FormatVersion < 1 || spec.FormatVersion > CurrentFormatVersion)
        {
            throw new ModelFormatException(
                $"The Vlm2Vec settings stored in the ML.NET model have format version {spec?.FormatVersion.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(none)"}; " +
                $"this version of Vlm2Vec.ML reads version {CurrentFormatVersion}. Update the Vlm2Vec.ML package.");
        }

        return spec;
    }
}
