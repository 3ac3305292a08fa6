using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;

namespace Vlm2Vec.Extensions.AI.VectorData;

/// <summary>
/// The storage type of a data property: a scalar (string, number, bool, date/time, Guid), an array of scalars or a list of
/// scalars. The <see cref="Code"/> is what the collection catalog persists; values are kept in memory as
/// <see cref="StorageType"/> instances (boxed scalars, <c>T[]</c> or <see cref="List{T}"/>) and persisted as JSON.
/// </summary>
internal sealed class DataFieldType
{
    /// <summary>The supported scalar types and their catalog codes.</summary>
    private static readonly (Type Type, string Code)[] Scalars =
    [
        (typeof(string), "string"),
        (typeof(bool), "bool"),
        (typeof(byte), "uint8"),
        (typeof(sbyte), "int8"),
        (typeof(short), "int16"),
        (typeof(int), "int32"),
        (typeof(long), "int64"),
        (typeof(float), "float32"),
        (typeof(double), "float64"),
        (typeof(decimal), "decimal"),
        (typeof(DateTime), "datetime"),
        (typeof(DateTimeOffset), "datetimeoffset"),
        (typeof(DateOnly), "date"),
        (typeof(TimeOnly), "time"),
        (typeof(TimeSpan), "timespan"),
        (typeof(Guid), "guid"),
    ];

    /// <summary>The JSON options used for data values: defaults, plus NaN/Infinity for floating-point values.</summary>
    internal static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.General)
    {
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private DataFieldType(string code, Type storageType, Type scalarType, DataFieldShape shape)
    {
        Code = code;
        StorageType = storageType;
        ScalarType = scalarType;
        Shape = shape;
    }

    /// <summary>The human-readable list of supported data property types (for error messages).</summary>
    public static string SupportedTypesDescription { get; } =
        string.Join(", ", Scalars.Select(s => s.Type.Name)) + " (and their nullable forms), arrays and List<T>/IList<T>/IReadOnlyList<T> of these";

    /// <summary>The catalog code: <c>int32</c>, <c>string[]</c>, <c>list&lt;string&gt;</c>, …</summary>
    public string Code { get; }

    /// <summary>The CLR type values are kept as in memory (and deserialized into).</summary>
    public Type StorageType { get; }

    /// <summary>The scalar (element) type.</summary>
    public Type ScalarType { get; }

    /// <summary>Scalar, array or list.</summary>
    public DataFieldShape Shape { get; }

    /// <summary>Resolves the storage type of a data property's CLR type; false when the type is not supported.</summary>
    public static bool TryResolve(Type clrType, [NotNullWhen(true)] out DataFieldType? fieldType)
    {
        var type = Nullable.GetUnderlyingType(clrType) ?? clrType;
        if (TryScalarCode(type, out var code))
        {
            fieldType = new DataFieldType(code, type, type, DataFieldShape.Scalar);
            return true;
        }

        if (type.IsArray && type.GetArrayRank() == 1 && type.GetElementType() is { } arrayElement)
        {
            var element = Nullable.GetUnderlyingType(arrayElement) ?? arrayElement;
            if (element == arrayElement && TryScalarCode(element, out var elementCode))
            {
                fieldType = new DataFieldType(elementCode + "[]", type, element, DataFieldShape.Array);
                return true;
            }
        }

        if (type.IsGenericType && type.GetGenericArguments() is [var listElement])
        {
            var definition = type.GetGenericTypeDefinition();
            if ((definition == typeof(List<>) || definition == typeof(IList<>) || definition == typeof(IReadOnlyList<>))
                && TryScalarCode(listElement, out var elementCode))
            {
                fieldType = new DataFieldType($"list<{elementCode}>", typeof(List<>).MakeGenericType(listElement), listElement, DataFieldShape.List);
                return true;
            }
        }

        fieldType = null;
        return false;
    }

    /// <summary>Resolves a catalog code written by <see cref="Code"/>.</summary>
    public static DataFieldType FromCode(string code)
    {
        ArgumentNullException.ThrowIfNull(code);
        if (code.EndsWith("[]", StringComparison.Ordinal) && TryScalarType(code[..^2], out var arrayElement))
        {
            return new DataFieldType(code, arrayElement.MakeArrayType(), arrayElement, DataFieldShape.Array);
        }

        if (code.StartsWith("list<", StringComparison.Ordinal) && code.EndsWith('>') && TryScalarType(code[5..^1], out var listElement))
        {
            return new DataFieldType(code, typeof(List<>).MakeGenericType(listElement), listElement, DataFieldShape.List);
        }

        if (TryScalarType(code, out var scalar))
        {
            return new DataFieldType(code, scalar, scalar, DataFieldShape.Scalar);
        }

        throw new InvalidDataException($"The collection catalog names an unknown data type '{code}'; this file was written by a newer version.");
    }

    /// <summary>
    /// Converts a value read from a record into the storage form: scalars as they are (numbers of another integral or
    /// floating-point type converted when lossless), arrays copied, any list or sequence copied into a <see cref="List{T}"/>.
    /// Copies make the store immune to later changes of the caller's collections.
    /// </summary>
    /// <exception cref="ArgumentException">The value cannot be stored as this type.</exception>
    public object? ToStorage(object? value, string propertyName)
    {
        if (value is null)
        {
            return null;
        }

        switch (Shape)
        {
            case DataFieldShape.Scalar:
                if (value.GetType() == StorageType)
                {
                    return value;
                }

                return ConvertScalar(value, propertyName);

            case DataFieldShape.Array:
                if (value is Array array && value.GetType() == StorageType)
                {
                    return array.Clone();
                }

                break;

            case DataFieldShape.List:
                if (value is System.Collections.IEnumerable sequence && value is not string)
                {
                    var list = (System.Collections.IList)Activator.CreateInstance(StorageType)!;
                    foreach (var item in sequence)
                    {
                        list.Add(item is null || item.GetType() == ScalarType ? item : ConvertScalar(item, propertyName));
                    }

                    return list;
                }

                break;
        }

        throw new ArgumentException(
            $"Data property '{propertyName}' holds a value of type '{value.GetType().Name}', but the collection stores it as '{Code}'.");
    }

    /// <summary>Returns a copy of a stored value fit for handing to the caller (collections copied, scalars shared).</summary>
    public object? ToCaller(object? stored) => stored switch
    {
        null => null,
        Array array => array.Clone(),
        System.Collections.IList list when Shape == DataFieldShape.List => Activator.CreateInstance(StorageType, list),
        _ => stored,
    };

    /// <summary>Writes a stored value as JSON.</summary>
    public void WriteJson(Utf8JsonWriter writer, object value) => JsonSerializer.Serialize(writer, value, StorageType, JsonOptions);

    /// <summary>Reads a stored value from JSON.</summary>
    public object? ReadJson(JsonElement element) => element.ValueKind == JsonValueKind.Null ? null : element.Deserialize(StorageType, JsonOptions);

    private object ConvertScalar(object value, string propertyName)
    {
        if (value is IConvertible && ScalarType != typeof(string) && IsNumeric(value.GetType()) && IsNumeric(ScalarType))
        {
            try
            {
                var converted = Convert.ChangeType(value, ScalarType, CultureInfo.InvariantCulture);
                if (Equals(Convert.ChangeType(converted, value.GetType(), CultureInfo.InvariantCulture), value))
                {
                    return converted;
                }
            }
            catch (OverflowException)
            {
            }
        }

        throw new ArgumentException(
            $"Data property '{propertyName}' holds a value of type '{value.GetType().Name}' ({value}), but the collection stores '{Code}' and the value does not convert without loss.");
    }

    private static bool IsNumeric(Type type) =>
        type == typeof(byte) || type == typeof(sbyte) || type == typeof(short) || type == typeof(int) || type == typeof(long)
        || type == typeof(float) || type == typeof(double) || type == typeof(decimal);

    private static bool TryScalarCode(Type type, [NotNullWhen(true)] out string? code)
    {
        foreach (var (scalarType, scalarCode) in Scalars)
        {
            if (scalarType == type)
            {
                code = scalarCode;
                return true;
            }
        }

        code = null;
        return false;
    }

    private static bool TryScalarType(string code, [NotNullWhen(true)] out Type? type)
    {
        foreach (var (scalarType, scalarCode) in Scalars)
        {
            if (scalarCode == code)
            {
                type = scalarType;
                return true;
            }
        }

        type = null;
        return false;
    }
}
