using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace Vlm2Vec.ML;

/// <summary>
/// What <see cref="Vlm2VecEmbeddingTransformer.Transform"/> returns: the input's columns plus the embedding column, with
/// the schema of the saved form (so a live and a reloaded transformer agree exactly). Its cursors read rows in batches
/// and embed each batch in one call (<see cref="EmbeddingCursor"/>); cursors that do not ask for the embedding column
/// pass straight through to the input.
/// </summary>
internal sealed class BatchedEmbeddingDataView : IDataView
{
    public BatchedEmbeddingDataView(IHost host, EmbeddingSpec spec, string specJson, Func<Vlm2VecEmbedder> embedder, int batchSize, IDataView source, DataViewSchema schema)
    {
        Host = host;
        Spec = spec;
        SpecJson = specJson;
        Embedder = embedder;
        BatchSize = batchSize;
        Source = source;
        Schema = schema;
        OutputIndex = schema[spec.OutputColumn].Index;
        SourceIndex = new int[schema.Count];
        for (var i = 0; i < schema.Count; i++)
        {
            SourceIndex[i] = i == OutputIndex ? -1 : FindSource(source.Schema, schema, i);
        }

        ImageIndex = spec.ImageColumn is null ? -1 : source.Schema[spec.ImageColumn].Index;
        TextIndex = spec.TextColumn is null ? -1 : source.Schema[spec.TextColumn].Index;
        InstructionIndex = spec.InstructionColumn is null ? -1 : source.Schema[spec.InstructionColumn].Index;
    }

    public IHost Host { get; }

    public EmbeddingSpec Spec { get; }

    public string SpecJson { get; }

    public Func<Vlm2VecEmbedder> Embedder { get; }

    public int BatchSize { get; }

    public IDataView Source { get; }

    public DataViewSchema Schema { get; }

    public int OutputIndex { get; }

    /// <summary>For each output column, the input column it passes through (−1 for the embedding).</summary>
    public int[] SourceIndex { get; }

    public int ImageIndex { get; }

    public int TextIndex { get; }

    public int InstructionIndex { get; }

    public bool CanShuffle => Source.CanShuffle;

    public long? GetRowCount() => Source.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var active = Active(columnsNeeded);
        return new EmbeddingCursor(this, Source.GetRowCursor(SourceColumns(active), rand), active);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
    {
        var active = Active(columnsNeeded);
        var sources = Source.GetRowCursorSet(SourceColumns(active), n, rand);
        var cursors = new DataViewRowCursor[sources.Length];
        for (var i = 0; i < sources.Length; i++)
        {
            cursors[i] = new EmbeddingCursor(this, sources[i], active);
        }

        return cursors;
    }

    /// <summary>
    /// The input column an output column passes through: the k-th column of a name in the output (hidden ones included)
    /// is the k-th of that name in the input, since the saved form only appends columns and drops its own.
    /// </summary>
    private static int FindSource(DataViewSchema source, DataViewSchema output, int outputIndex)
    {
        var column = output[outputIndex];
        var occurrence = 0;
        for (var i = 0; i < outputIndex; i++)
        {
            if (output[i].Name == column.Name)
            {
                occurrence++;
            }
        }

        for (var i = 0; i < source.Count; i++)
        {
            if (source[i].Name == column.Name && occurrence-- == 0)
            {
                return source[i].Type.Equals(column.Type)
                    ? i
                    : throw new InvalidOperationException($"Column '{column.Name}' of the output is {column.Type} but its input column is {source[i].Type}.");
            }
        }

        throw new InvalidOperationException($"Column '{column.Name}' of the output has no source column.");
    }

    private bool[] Active(IEnumerable<DataViewSchema.Column> columnsNeeded)
    {
        ArgumentNullException.ThrowIfNull(columnsNeeded);
        var active = new bool[Schema.Count];
        foreach (var column in columnsNeeded)
        {
            if (column.Index < 0 || column.Index >= active.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(columnsNeeded), $"Column '{column.Name}' (index {column.Index}) is not a column of this view.");
            }

            active[column.Index] = true;
        }

        return active;
    }

    private List<DataViewSchema.Column> SourceColumns(bool[] active)
    {
        var needed = new HashSet<int>();
        for (var i = 0; i < active.Length; i++)
        {
            if (active[i] && SourceIndex[i] >= 0)
            {
                needed.Add(SourceIndex[i]);
            }
        }

        if (active[OutputIndex])
        {
            foreach (var index in new[] { ImageIndex, TextIndex, InstructionIndex })
            {
                if (index >= 0)
                {
                    needed.Add(index);
                }
            }
        }

        var columns = new List<DataViewSchema.Column>(needed.Count);
        foreach (var index in needed)
        {
            columns.Add(Source.Schema[index]);
        }

        return columns;
    }
}
