using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Vlm2Vec.ML;

/// <summary>
/// Adds a VLM2Vec embedding column (<c>Vector&lt;Single, D&gt;</c>, L2-normalised) computed from image and/or text columns.
/// Made by <see cref="Vlm2VecEmbeddingEstimator.Fit"/>; see
/// <see cref="Vlm2VecCatalog.EmbedWithVlm2Vec(TransformsCatalog, Vlm2VecEmbeddingOptions)"/>.
/// </summary>
/// <remarks>
/// <para><see cref="Transform"/> is lazy, like every ML.NET transform: rows are embedded when a cursor reads them, in
/// batches of <see cref="Vlm2VecEmbeddingOptions.BatchSize"/> rows per cursor (parallel cursors each batch their own
/// rows). Every pass re-embeds, so put <c>AppendCacheCheckpoint</c> before a trainer that makes several passes.
/// <see cref="GetRowToRowMapper"/> (what a <c>PredictionEngine</c> uses) embeds one row at a time.</para>
/// <para><c>mlContext.Model.Save</c> stores the transformer as a chain of public ML.NET transforms whose settings
/// record the model folder by absolute path (the model itself is not copied into the zip) and the engine that opens it;
/// <c>mlContext.Model.Load</c> gives back an ordinary <c>TransformerChain</c> that reopens the model from that path the
/// first time it embeds, and embeds row by row; <see cref="Vlm2VecModelOperations.LoadWithVlm2Vec(ModelOperationsCatalog, string, out DataViewSchema)"/>
/// loads the same file with this transformer (and its batching) back in place. A transformer over an encoder object
/// cannot be saved.</para>
/// </remarks>
public sealed class Vlm2VecEmbeddingTransformer : ITransformer
{
    private readonly IHost _host;
    private readonly EmbeddingSpec _spec;
    private readonly string _specJson;
    private readonly ITransformer _saveable;
    private readonly IVlm2VecEncoder? _encoderObject;
    private readonly IVlm2VecEncoderFactory? _factory;
    private readonly int _batchSize;
    private readonly string? _notSaveableReason;

    internal Vlm2VecEmbeddingTransformer(
        IHost host, EmbeddingSpec spec, string specJson, ITransformer saveable, IVlm2VecEncoder? encoderObject, IVlm2VecEncoderFactory? factory, int batchSize, string? notSaveableReason)
    {
        _host = host;
        _spec = spec;
        _specJson = specJson;
        _saveable = saveable;
        _encoderObject = encoderObject;
        _factory = factory;
        _batchSize = batchSize;
        _notSaveableReason = notSaveableReason;
        RowErrorLog.Register(specJson, host);
    }

    /// <summary>The embedding column's name.</summary>
    public string OutputColumnName => _spec.OutputColumn;

    /// <summary>The embedding dimension D (the size of the output vector).</summary>
    public int Dimension => _spec.Dimension;

    /// <summary>The model's id (bundle or checkpoint name).</summary>
    public string ModelId => _spec.ModelId;

    /// <summary>The model folder (absolute), or null when the transformer wraps an encoder object.</summary>
    public string? ModelPath => _spec.ModelPath;

    /// <summary>Whether <c>mlContext.Model.Save</c> can store this transformer (false over an encoder object).</summary>
    public bool CanSave => _notSaveableReason is null;

    /// <inheritdoc />
    public bool IsRowToRowMapper => true;

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or of the wrong type.</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        CheckInput(inputSchema, nameof(inputSchema));
        return _saveable.GetOutputSchema(inputSchema);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or of the wrong type.</exception>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        CheckInput(input.Schema, nameof(input));
        var schema = _saveable.GetOutputSchema(input.Schema);
        return new BatchedEmbeddingDataView(_host, _spec, _specJson, Embedder, _batchSize, input, schema);
    }

    /// <inheritdoc />
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        CheckInput(inputSchema, nameof(inputSchema));
        return _saveable.GetRowToRowMapper(inputSchema);
    }

    /// <summary>Saves the transformer's public-transform form (see the remarks); called by <c>mlContext.Model.Save</c>.</summary>
    /// <exception cref="NotSupportedException">The transformer wraps an encoder object, or its engine cannot be recreated.</exception>
    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        if (_notSaveableReason is not null)
        {
            throw new NotSupportedException(_notSaveableReason);
        }

        _saveable.Save(ctx);
    }

    private Vlm2VecEmbedder Embedder()
    {
        GC.KeepAlive(_encoderObject);
        return ModelSessions.Embedder(_spec, _factory, new HostLoggerFactory(_host));
    }

    private void CheckInput(DataViewSchema schema, string parameterName)
    {
        var kind = ColumnChecks.Check(schema, _spec.ImageColumn, _spec.TextColumn, _spec.InstructionColumn, parameterName);
        if (kind != _spec.Image)
        {
            throw new ArgumentOutOfRangeException(
                parameterName,
                $"EmbedWithVlm2Vec: the image column '{_spec.ImageColumn}' held {Describe(_spec.Image)} when the transformer was fitted, but now holds {Describe(kind)}.");
        }
    }

    private static string Describe(ImageSourceKind kind) => kind == ImageSourceKind.EncodedBytes ? "encoded bytes (Vector<Byte>)" : "file paths (String)";
}
