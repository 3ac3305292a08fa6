using System.Buffers;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Vlm2Vec.ML;

/// <summary>
/// A cursor of <see cref="BatchedEmbeddingDataView"/>. When the embedding column is active it reads up to
/// <see cref="BatchedEmbeddingDataView.BatchSize"/> input rows ahead, keeping the values of every active pass-through
/// column, the row ids and batch ids (<see cref="ColumnBuffer"/>), embeds those rows in one embedder call, and then
/// serves them one by one: to its consumer it is an ordinary row-at-a-time cursor over the same rows in the same order.
/// When the embedding column is not active it passes straight through.
/// </summary>
internal sealed class EmbeddingCursor : DataViewRowCursor
{
    private readonly BatchedEmbeddingDataView _view;
    private readonly DataViewRowCursor _source;
    private readonly bool[] _active;
    private readonly bool _embeds;
    private readonly int _dimension;

    // Read-ahead state (only when _embeds).
    private readonly ColumnBuffer?[] _buffers;
    private readonly ValueGetter<DataViewRowId>? _sourceIds;
    private readonly DataViewRowId[] _ids = [];
    private readonly long[] _batches = [];
    private readonly ValueGetter<VBuffer<byte>>? _imageBytes;
    private readonly ValueGetter<ReadOnlyMemory<char>>? _imagePath;
    private readonly ValueGetter<ReadOnlyMemory<char>>? _text;
    private readonly ValueGetter<ReadOnlyMemory<char>>? _instruction;
    private readonly RowEmbedding.Row[] _rows = [];
    private readonly byte[]?[] _rented = [];
    private readonly float[][] _vectors = [];
    private VBuffer<byte> _bytesScratch;
    private ReadOnlyMemory<char> _textScratch;
    private int _count;
    private int _slot = -1;
    private bool _sourceDone;
    private long _position = -1;

    public EmbeddingCursor(BatchedEmbeddingDataView view, DataViewRowCursor source, bool[] active)
    {
        _view = view;
        _source = source;
        _active = active;
        _embeds = active[view.OutputIndex];
        _dimension = view.Spec.Dimension;
        _buffers = new ColumnBuffer?[active.Length];
        if (!_embeds)
        {
            return;
        }

        var capacity = view.BatchSize;
        for (var i = 0; i < active.Length; i++)
        {
            if (active[i] && view.SourceIndex[i] >= 0)
            {
                _buffers[i] = ColumnBuffer.Create(source, view.Source.Schema[view.SourceIndex[i]], capacity);
            }
        }

        _sourceIds = source.GetIdGetter();
        _ids = new DataViewRowId[capacity];
        _batches = new long[capacity];
        _rows = new RowEmbedding.Row[capacity];
        _rented = new byte[capacity][];
        _vectors = new float[capacity][];
        var schema = view.Source.Schema;
        if (view.ImageIndex >= 0)
        {
            if (view.Spec.Image == ImageSourceKind.EncodedBytes)
            {
                _imageBytes = source.GetGetter<VBuffer<byte>>(schema[view.ImageIndex]);
            }
            else
            {
                _imagePath = source.GetGetter<ReadOnlyMemory<char>>(schema[view.ImageIndex]);
            }
        }

        if (view.TextIndex >= 0)
        {
            _text = source.GetGetter<ReadOnlyMemory<char>>(schema[view.TextIndex]);
        }

        if (view.InstructionIndex >= 0)
        {
            _instruction = source.GetGetter<ReadOnlyMemory<char>>(schema[view.InstructionIndex]);
        }
    }

    public override long Position => _position;

    public override long Batch => _embeds ? (_slot >= 0 ? _batches[_slot] : 0) : _source.Batch;

    public override DataViewSchema Schema => _view.Schema;

    public override bool IsColumnActive(DataViewSchema.Column column) =>
        column.Index >= 0 && column.Index < _active.Length && _active[column.Index];

    public override bool MoveNext()
    {
        if (!_embeds)
        {
            if (!_source.MoveNext())
            {
                return false;
            }

            _position++;
            return true;
        }

        if (_slot + 1 < _count)
        {
            _slot++;
            _position++;
            return true;
        }

        if (_sourceDone || !ReadAndEmbed())
        {
            _slot = -1;
            _count = 0;
            return false;
        }

        _slot = 0;
        _position++;
        return true;
    }

    public override ValueGetter<DataViewRowId> GetIdGetter()
    {
        if (!_embeds)
        {
            return _source.GetIdGetter();
        }

        return (ref DataViewRowId value) => value = _ids[CurrentSlot()];
    }

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
    {
        if (!IsColumnActive(column))
        {
            throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor: ask for it when the cursor is created.");
        }

        if (column.Index == _view.OutputIndex)
        {
            if (typeof(TValue) != typeof(VBuffer<float>))
            {
                throw new InvalidOperationException($"Column '{column.Name}' is {column.Type}: read it as VBuffer<float>, not {typeof(TValue).Name}.");
            }

            ValueGetter<VBuffer<float>> embedding = (ref VBuffer<float> value) =>
            {
                var editor = VBufferEditor.Create(ref value, _dimension);
                _vectors[CurrentSlot()].AsSpan(0, _dimension).CopyTo(editor.Values);
                value = editor.Commit();
            };
            return (ValueGetter<TValue>)(Delegate)embedding;
        }

        if (!_embeds)
        {
            return _source.GetGetter<TValue>(_view.Source.Schema[_view.SourceIndex[column.Index]]);
        }

        return _buffers[column.Index]!.Getter(CurrentSlot) as ValueGetter<TValue>
            ?? throw new InvalidOperationException($"Column '{column.Name}' is {column.Type}; {typeof(TValue).Name} is not its raw type.");
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            ReturnRented();
            _source.Dispose();
        }

        base.Dispose(disposing);
    }

    private int CurrentSlot() => _slot >= 0
        ? _slot
        : throw new InvalidOperationException("The cursor is not on a row: call MoveNext first (and check that it returned true).");

    /// <summary>Reads the next rows (up to the batch size) and embeds them; false when the input has no more rows.</summary>
    private bool ReadAndEmbed()
    {
        ReturnRented();
        _count = 0;
        var spec = _view.Spec;
        while (_count < _rows.Length)
        {
            if (!_source.MoveNext())
            {
                _sourceDone = true;
                break;
            }

            var slot = _count++;
            foreach (var buffer in _buffers)
            {
                buffer?.Capture(slot);
            }

            _sourceIds!(ref _ids[slot]);
            _batches[slot] = _source.Batch;
            _rows[slot] = ReadRow(spec, slot, _position + 1 + slot);
        }

        if (_count == 0)
        {
            return false;
        }

        RowEmbedding.Embed(spec, _view.SpecJson, _view.Embedder(), new ArraySegment<RowEmbedding.Row>(_rows, 0, _count), _vectors);
        return true;
    }

    private RowEmbedding.Row ReadRow(EmbeddingSpec spec, int slot, long position)
    {
        ReadOnlyMemory<byte> bytes = ReadOnlyMemory<byte>.Empty;
        string? path = null, text = null, instruction = null;
        if (_imageBytes is not null)
        {
            _imageBytes(ref _bytesScratch);
            var length = _bytesScratch.Length;
            if (length > 0)
            {
                var rented = ArrayPool<byte>.Shared.Rent(length);
                if (_bytesScratch.IsDense)
                {
                    _bytesScratch.GetValues().CopyTo(rented);
                }
                else
                {
                    // A sparse byte vector (unusual for file bytes): spell out its implicit zeros.
                    var i = 0;
                    foreach (var value in _bytesScratch.DenseValues())
                    {
                        rented[i++] = value;
                    }
                }

                _rented[slot] = rented;
                bytes = rented.AsMemory(0, length);
            }
        }
        else if (_imagePath is not null)
        {
            _imagePath(ref _textScratch);
            path = _textScratch.ToString();
        }

        if (_text is not null)
        {
            _text(ref _textScratch);
            text = _textScratch.ToString();
        }

        if (_instruction is not null)
        {
            _instruction(ref _textScratch);
            instruction = _textScratch.ToString();
        }

        return new RowEmbedding.Row(RowInputs.Build(spec, bytes, path, text, instruction), position, RowInputs.Describe(spec, bytes.Length, path, text));
    }

    private void ReturnRented()
    {
        for (var i = 0; i < _rented.Length; i++)
        {
            if (_rented[i] is { } array)
            {
                ArrayPool<byte>.Shared.Return(array);
                _rented[i] = null;
            }
        }
    }
}
