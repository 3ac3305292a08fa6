using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Vlm2Vec.TorchSharp.Training;

namespace Vlm2Vec.ML;

/// <summary>
/// Reads an <see cref="IDataView"/> of pairs into <see cref="ContrastiveExample"/>s (the trainer holds its examples in
/// memory: image bytes are copied once, paths stay paths). Empty values mean "not in this row"; a side with nothing
/// left is reported by the trainer under its bad-row policy, with the row named by its position.
/// </summary>
internal static class PairReader
{
    public static List<ContrastiveExample> Read(IDataView data, Vlm2VecFineTuningOptions options, PairColumns columns, CancellationToken cancellationToken)
    {
        var schema = data.Schema;
        var needed = new List<DataViewSchema.Column>();
        foreach (var name in new[] { options.QueryImageColumnName, options.QueryTextColumnName, options.PositiveImageColumnName, options.PositiveTextColumnName, options.NegativesColumnName })
        {
            if (name is not null && !needed.Exists(c => c.Name == name))
            {
                needed.Add(schema[name]);
            }
        }

        using var cursor = data.GetRowCursor(needed);
        var query = new SideReader(cursor, schema, options.QueryImageColumnName, columns.QueryImage, options.QueryTextColumnName, options.QueryInstruction, EmbeddingRole.Query, options.ImageFolder);
        var positive = new SideReader(cursor, schema, options.PositiveImageColumnName, columns.PositiveImage, options.PositiveTextColumnName, options.PositiveInstruction, EmbeddingRole.Target, options.ImageFolder);
        var negatives = NegativesGetter(cursor, schema, options.NegativesColumnName, columns.NegativesAreVector);
        var examples = new List<ContrastiveExample>();
        while (cursor.MoveNext())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var source = string.Create(CultureInfo.InvariantCulture, $"row {cursor.Position}");
            examples.Add(new ContrastiveExample
            {
                Query = query.Read(),
                Positive = positive.Read(),
                Negatives = negatives?.Invoke() ?? [],
                Source = source,
            });
        }

        return examples;
    }

    private static Func<IReadOnlyList<MultimodalInput>>? NegativesGetter(DataViewRowCursor cursor, DataViewSchema schema, string? column, bool isVector)
    {
        if (column is null)
        {
            return null;
        }

        if (isVector)
        {
            var getter = cursor.GetGetter<VBuffer<ReadOnlyMemory<char>>>(schema[column]);
            VBuffer<ReadOnlyMemory<char>> values = default;
            return () =>
            {
                getter(ref values);
                var list = new List<MultimodalInput>();
                foreach (var value in values.DenseValues())
                {
                    if (!value.IsEmpty)
                    {
                        list.Add(MultimodalInput.FromText(value.ToString(), role: EmbeddingRole.Target));
                    }
                }

                return list;
            };
        }

        var single = cursor.GetGetter<ReadOnlyMemory<char>>(schema[column]);
        ReadOnlyMemory<char> text = default;
        return () =>
        {
            single(ref text);
            return text.IsEmpty ? [] : [MultimodalInput.FromText(text.ToString(), role: EmbeddingRole.Target)];
        };
    }

    /// <summary>Reads one side of the pair (image and/or text, fixed instruction, role).</summary>
    private sealed class SideReader
    {
        private readonly ValueGetter<VBuffer<byte>>? _bytes;
        private readonly ValueGetter<ReadOnlyMemory<char>>? _path;
        private readonly ValueGetter<ReadOnlyMemory<char>>? _text;
        private readonly string? _imageName;
        private readonly string? _instruction;
        private readonly EmbeddingRole _role;
        private readonly string? _imageFolder;
        private VBuffer<byte> _bytesValue;
        private ReadOnlyMemory<char> _textValue;

        public SideReader(DataViewRowCursor cursor, DataViewSchema schema, string? image, ImageSourceKind kind, string? text, string? instruction, EmbeddingRole role, string? imageFolder)
        {
            if (image is not null)
            {
                if (kind == ImageSourceKind.EncodedBytes)
                {
                    _bytes = cursor.GetGetter<VBuffer<byte>>(schema[image]);
                }
                else
                {
                    _path = cursor.GetGetter<ReadOnlyMemory<char>>(schema[image]);
                }
            }

            if (text is not null)
            {
                _text = cursor.GetGetter<ReadOnlyMemory<char>>(schema[text]);
            }

            _imageName = image;
            _instruction = instruction;
            _role = role;
            _imageFolder = imageFolder;
        }

        public MultimodalInput Read()
        {
            ImageInput? image = null;
            if (_bytes is not null)
            {
                _bytes(ref _bytesValue);
                if (_bytesValue.Length > 0)
                {
                    image = ImageInput.FromBytes(_bytesValue.IsDense ? _bytesValue.GetValues().ToArray() : [.. _bytesValue.DenseValues()], _imageName);
                }
            }
            else if (_path is not null)
            {
                _path(ref _textValue);
                if (!_textValue.IsEmpty)
                {
                    var path = _textValue.ToString();
                    image = ImageInput.FromFile(_imageFolder is null || Path.IsPathRooted(path) ? path : Path.Combine(_imageFolder, path));
                }
            }

            string? text = null;
            if (_text is not null)
            {
                _text(ref _textValue);
                text = _textValue.IsEmpty ? null : _textValue.ToString();
            }

            return new MultimodalInput { Images = image is null ? [] : [image], Text = text, Instruction = _instruction, Role = _role };
        }
    }
}
