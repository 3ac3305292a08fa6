namespace Vlm2Vec.Extensions.AI.VectorData;

/// <summary>A data field of a stored collection: its storage name and type.</summary>
/// <param name="Name">The storage name (the JSON property name in the <c>data</c> column).</param>
/// <param name="Type">The storage type.</param>
internal sealed record DataFieldSchema(string Name, DataFieldType Type);
