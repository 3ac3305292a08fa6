using System.Numerics.Tensors;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace Vlm2Vec.Extensions.AI.VectorData;

/// <summary>
/// Binds one record type's collection model to a stored collection (by storage name): converts records to pending rows
/// and stored rows back to records, and normalises keys. Built per (collection view, stored collection).
/// </summary>
internal sealed class CollectionBinding
{
    private readonly Dictionary<DataPropertyModel, int> _dataIndexes = [];
    private readonly (DataPropertyModel Property, int Index, DataFieldType Type)[] _data;

    public CollectionBinding(CollectionModel model, CollectionStorage storage)
    {
        Model = model;
        Storage = storage;
        var schema = storage.Schema;
        var problems = Incompatibilities(model, schema, storage.Name, out var missing);
        if (problems is not null)
        {
            throw new InvalidOperationException(problems);
        }

        if (missing.Count > 0)
        {
            throw new InvalidOperationException($"Collection '{storage.Name}' lacks data field '{missing[0].Name}'; the store should have added it.");
        }

        _data = new (DataPropertyModel, int, DataFieldType)[model.DataProperties.Count];
        for (var i = 0; i < _data.Length; i++)
        {
            var property = model.DataProperties[i];
            var index = schema.IndexOfData(property.StorageName);
            _data[i] = (property, index, schema.DataFields[index].Type);
            _dataIndexes[property] = index;
        }

        Vectors = new VectorBinding[model.VectorProperties.Count];
        for (var i = 0; i < Vectors.Length; i++)
        {
            var property = model.VectorProperties[i];
            Vectors[i] = new VectorBinding(property, schema.IndexOfVector(property.StorageName));
        }

        var keyType = model.KeyProperty.Type;
        KeyToView = keyType == typeof(int) ? static key => checked((int)(long)key) : static key => key;
    }

    public CollectionModel Model { get; }

    /// <summary>The stored collection this binding was built for (a new one after delete and re-create).</summary>
    public CollectionStorage Storage { get; }

    public VectorBinding[] Vectors { get; }

    /// <summary>Converts a stored key to the view's key type (int keys are stored as long).</summary>
    public Func<object, object> KeyToView { get; }

    /// <summary>
    /// Checks that <paramref name="model"/> can bind to <paramref name="schema"/>: same key kind, same types for data
    /// fields of the same name, every vector field present with the same dimensions. Returns the problem, or null;
    /// <paramref name="missingDataFields"/> lists the model's data fields the schema lacks (they can be added).
    /// </summary>
    public static string? Incompatibilities(CollectionModel model, CollectionSchema schema, string collectionName, out List<DataFieldSchema> missingDataFields)
    {
        missingDataFields = [];
        var keyKind = CollectionSchema.KeyKindOf(model.KeyProperty.Type);
        if (keyKind != schema.KeyKind)
        {
            return $"Collection '{collectionName}' stores {schema.KeyKind} keys, but this record type's key '{model.KeyProperty.ModelName}' is a {model.KeyProperty.Type.Name}.";
        }

        foreach (var property in model.DataProperties)
        {
            if (!DataFieldType.TryResolve(property.Type, out var wanted))
            {
                return $"Data property '{property.ModelName}' has unsupported type '{property.Type.Name}'.";
            }

            var index = schema.IndexOfData(property.StorageName);
            if (index < 0)
            {
                missingDataFields.Add(new DataFieldSchema(property.StorageName, wanted));
            }
            else if (schema.DataFields[index].Type.Code != wanted.Code)
            {
                return $"Data property '{property.ModelName}' is a {property.Type.Name} ('{wanted.Code}'), but collection '{collectionName}' stores '{property.StorageName}' as '{schema.DataFields[index].Type.Code}'.";
            }
        }

        foreach (var property in model.VectorProperties)
        {
            var index = schema.IndexOfVector(property.StorageName);
            if (index < 0)
            {
                return $"Collection '{collectionName}' has no vector field '{property.StorageName}' (it has: {string.Join(", ", schema.VectorFields.Select(v => v.Name))}); " +
                    "vector fields cannot be added to an existing collection: delete and re-create it.";
            }

            if (schema.VectorFields[index].Dimensions != property.Dimensions)
            {
                return $"Vector property '{property.ModelName}' declares {property.Dimensions} dimensions, but collection '{collectionName}' stores '{property.StorageName}' with {schema.VectorFields[index].Dimensions}.";
            }
        }

        return null;
    }

    /// <summary>The schema index of a data property of this model.</summary>
    public int DataIndexOf(DataPropertyModel property) => _dataIndexes[property];

    /// <summary>The binding of a vector property of this model.</summary>
    public VectorBinding VectorOf(VectorPropertyModel property)
    {
        foreach (var vector in Vectors)
        {
            if (vector.Property == property)
            {
                return vector;
            }
        }

        throw new InvalidOperationException($"Vector property '{property.ModelName}' is not part of this collection's model.");
    }

    /// <summary>Converts a caller's key to the stored form (<see cref="string"/>, <see cref="Guid"/> or <see cref="long"/>).</summary>
    /// <exception cref="ArgumentException">The key has the wrong type.</exception>
    public object NormalizeKey(object? key, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(key, parameterName);
        return Storage.Schema.KeyKind switch
        {
            StoredKeyKind.String when key is string text => text,
            StoredKeyKind.Guid when key is Guid guid => guid,
            StoredKeyKind.Int64 when key is long number => number,
            StoredKeyKind.Int64 when key is int or short or byte or sbyte or ushort or uint => Convert.ToInt64(key, System.Globalization.CultureInfo.InvariantCulture),
            _ => throw new ArgumentException(
                $"Collection '{Storage.Name}' has {Storage.Schema.KeyKind} keys; a key of type '{key.GetType().Name}' was given.", parameterName),
        };
    }

    /// <summary>
    /// Converts a record into a pending row. <paramref name="generated"/> holds, per vector binding index, the vectors
    /// generated for the batch (null for native vector properties). Guid keys marked auto-generated get a new value
    /// (written back to the record) when empty.
    /// </summary>
    /// <exception cref="ArgumentException">A value cannot be stored (wrong key type, vector of the wrong size, data of the wrong type).</exception>
    public PendingRow ToPendingRow(object record, int itemIndex, ReadOnlyMemory<float>[]?[] generated)
    {
        var schema = Storage.Schema;
        var keyProperty = Model.KeyProperty;
        var rawKey = keyProperty.GetValueAsObject(record);
        if (keyProperty.IsAutoGenerated && (rawKey is null || (rawKey is Guid guid && guid == Guid.Empty)))
        {
            var newKey = Guid.CreateVersion7();
            keyProperty.SetValueAsObject(record, newKey);
            rawKey = newKey;
        }

        if (rawKey is null)
        {
            throw new ArgumentException($"Record {itemIndex} has no key ('{keyProperty.ModelName}' is null).");
        }

        var key = NormalizeKey(rawKey, "records");
        object?[] data = schema.DataFields.Count == 0 ? [] : new object?[schema.DataFields.Count];
        foreach (var (property, index, type) in _data)
        {
            data[index] = type.ToStorage(property.GetValueAsObject(record), property.ModelName);
        }

        var vectors = new ReadOnlyMemory<float>[schema.VectorFields.Count];
        for (var i = 0; i < Vectors.Length; i++)
        {
            var binding = Vectors[i];
            var vector = generated[i] is { } batch ? batch[itemIndex] : ReadNativeVector(binding.Property.GetValueAsObject(record));
            if (!vector.IsEmpty && vector.Length != binding.Property.Dimensions)
            {
                throw new ArgumentException(
                    $"Record {itemIndex} (key '{rawKey}'): vector property '{binding.Property.ModelName}' has {vector.Length} dimensions; the collection stores {binding.Property.Dimensions}.");
            }

            if (!vector.IsEmpty && !TensorPrimitives.IsFiniteAll(vector.Span))
            {
                throw new ArgumentException(
                    $"Record {itemIndex} (key '{rawKey}'): vector property '{binding.Property.ModelName}' contains NaN or infinity; only finite values can be stored and searched.");
            }

            vectors[binding.SchemaIndex] = vector;
        }

        return new PendingRow(key, data, vectors);
    }

    /// <summary>Builds a new record from a stored row (values copied; vectors only when asked and stored natively).</summary>
    public TRecord Materialize<TRecord>(StoredRow row, bool includeVectors)
        where TRecord : class
    {
        var record = Model.CreateRecord<TRecord>();
        var dynamic = record is Dictionary<string, object?>;
        Model.KeyProperty.SetValueAsObject(record, KeyToView(row.Key));
        foreach (var (property, index, type) in _data)
        {
            var value = index < row.Data.Length ? type.ToCaller(row.Data[index]) : null;
            if (value is not null || dynamic)
            {
                property.SetValueAsObject(record, value);
            }
        }

        if (includeVectors)
        {
            foreach (var binding in Vectors)
            {
                var arena = Storage.Arena(binding.SchemaIndex);
                if (binding.Kind == VectorValueKind.Generated)
                {
                    continue;
                }

                if (!arena.Has(row.Slot))
                {
                    if (dynamic)
                    {
                        binding.Property.SetValueAsObject(record, null);
                    }

                    continue;
                }

                var copy = arena.Get(row.Slot).ToArray();
                binding.Property.SetValueAsObject(record, binding.Kind switch
                {
                    VectorValueKind.FloatArray => copy,
                    VectorValueKind.Embedding => new Embedding<float>(copy),
                    _ => new ReadOnlyMemory<float>(copy),
                });
            }
        }

        return record;
    }

    private static ReadOnlyMemory<float> ReadNativeVector(object? value) => value switch
    {
        null => default,
        ReadOnlyMemory<float> memory => memory,
        float[] array => array,
        Embedding<float> embedding => embedding.Vector,
        _ => throw new ArgumentException($"A vector value of type '{value.GetType().Name}' is not supported; use {Vlm2VecModelBuilder.SupportedVectorTypes}."),
    };
}
