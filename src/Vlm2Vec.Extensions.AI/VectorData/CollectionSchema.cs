using System.Text.Json;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace Vlm2Vec.Extensions.AI.VectorData;

/// <summary>
/// The stored shape of a collection (what the catalog table persists): key kind, data fields and vector fields, by
/// storage name. Record types bind to it by storage name, so several record types (and the dynamic view) can share one
/// collection. Instances are immutable; adding data fields makes a new schema.
/// </summary>
internal sealed class CollectionSchema
{
    /// <summary>The version of the catalog's schema JSON.</summary>
    public const int FormatVersion = 1;

    public CollectionSchema(StoredKeyKind keyKind, IReadOnlyList<DataFieldSchema> dataFields, IReadOnlyList<VectorFieldSchema> vectorFields)
    {
        KeyKind = keyKind;
        DataFields = dataFields;
        VectorFields = vectorFields;
    }

    public StoredKeyKind KeyKind { get; }

    public IReadOnlyList<DataFieldSchema> DataFields { get; }

    public IReadOnlyList<VectorFieldSchema> VectorFields { get; }

    /// <summary>The stored key kind of a key property type.</summary>
    /// <exception cref="NotSupportedException">The type is not a supported key type.</exception>
    public static StoredKeyKind KeyKindOf(Type keyType) =>
        keyType == typeof(string) ? StoredKeyKind.String
        : keyType == typeof(Guid) ? StoredKeyKind.Guid
        : keyType == typeof(int) || keyType == typeof(long) ? StoredKeyKind.Int64
        : throw new NotSupportedException($"Key type '{keyType.Name}' is not supported; use string, Guid, int or long.");

    /// <summary>The schema a collection model asks for.</summary>
    public static CollectionSchema FromModel(CollectionModel model)
    {
        var data = new List<DataFieldSchema>(model.DataProperties.Count);
        foreach (var property in model.DataProperties)
        {
            if (!DataFieldType.TryResolve(property.Type, out var fieldType))
            {
                throw new NotSupportedException($"Data property '{property.ModelName}' has unsupported type '{property.Type.Name}'.");
            }

            data.Add(new DataFieldSchema(property.StorageName, fieldType));
        }

        var vectors = new List<VectorFieldSchema>(model.VectorProperties.Count);
        foreach (var property in model.VectorProperties)
        {
            vectors.Add(new VectorFieldSchema(property.StorageName, property.Dimensions));
        }

        return new CollectionSchema(KeyKindOf(model.KeyProperty.Type), data, vectors);
    }

    public int IndexOfData(string storageName)
    {
        for (var i = 0; i < DataFields.Count; i++)
        {
            if (DataFields[i].Name == storageName)
            {
                return i;
            }
        }

        return -1;
    }

    public int IndexOfVector(string storageName)
    {
        for (var i = 0; i < VectorFields.Count; i++)
        {
            if (VectorFields[i].Name == storageName)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>A schema with <paramref name="added"/> appended to the data fields.</summary>
    public CollectionSchema WithDataFields(IEnumerable<DataFieldSchema> added) => new(KeyKind, [.. DataFields, .. added], VectorFields);

    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("version", FormatVersion);
            writer.WriteString("key", KeyKind switch { StoredKeyKind.String => "string", StoredKeyKind.Guid => "guid", _ => "int64" });
            writer.WriteStartArray("data");
            foreach (var field in DataFields)
            {
                writer.WriteStartObject();
                writer.WriteString("name", field.Name);
                writer.WriteString("type", field.Type.Code);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteStartArray("vectors");
            foreach (var field in VectorFields)
            {
                writer.WriteStartObject();
                writer.WriteString("name", field.Name);
                writer.WriteNumber("dimensions", field.Dimensions);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <exception cref="InvalidDataException">The JSON is not a schema this version understands.</exception>
    public static CollectionSchema FromJson(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var version = root.GetProperty("version").GetInt32();
        if (version > FormatVersion)
        {
            throw new InvalidDataException($"The collection schema has format version {version}; this library reads up to {FormatVersion}.");
        }

        var keyKind = root.GetProperty("key").GetString() switch
        {
            "string" => StoredKeyKind.String,
            "guid" => StoredKeyKind.Guid,
            "int64" => StoredKeyKind.Int64,
            var other => throw new InvalidDataException($"The collection schema names an unknown key kind '{other}'."),
        };

        var data = new List<DataFieldSchema>();
        foreach (var field in root.GetProperty("data").EnumerateArray())
        {
            data.Add(new DataFieldSchema(field.GetProperty("name").GetString()!, DataFieldType.FromCode(field.GetProperty("type").GetString()!)));
        }

        var vectors = new List<VectorFieldSchema>();
        foreach (var field in root.GetProperty("vectors").EnumerateArray())
        {
            vectors.Add(new VectorFieldSchema(field.GetProperty("name").GetString()!, field.GetProperty("dimensions").GetInt32()));
        }

        return new CollectionSchema(keyKind, data, vectors);
    }
}
