using Microsoft.Extensions.VectorData;
using Vlm2Vec.Extensions.AI.VectorData;

namespace Vlm2Vec.Extensions.AI.Tests.VectorData;

/// <summary>
/// Mirrors dotnet/extensions' <c>KeyTypeTests</c> and <c>DataTypeTests</c>: every supported key type and data type
/// survives an upsert, a close and a reopen of the file unchanged; Guid keys are generated when empty.
/// </summary>
public sealed class KeyAndDataTypeTests
{
    [Fact]
    public Task String_key() => TestKeyAsync("key with 'quotes' and ünïcödé", "other");

    [Fact]
    public Task Guid_key() => TestKeyAsync(Guid.Parse("603840bf-cf91-4521-8b8e-8b6a2e75910a"), Guid.Parse("11111111-2222-3333-4444-555555555555"));

    [Fact]
    public Task Int_key() => TestKeyAsync(int.MaxValue, -7);

    [Fact]
    public Task Long_key() => TestKeyAsync(long.MaxValue, long.MinValue);

    [Fact]
    public async Task Empty_Guid_key_is_generated_and_written_back()
    {
        using var test = new StoreUnderTest(persisted: true);
        var collection = test.Store.GetCollection<Guid, KeyRecord<Guid>>("guids");
        await collection.EnsureCollectionExistsAsync();
        var first = new KeyRecord<Guid> { Text = "first", Vector = new float[] { 1, 0, 0 } };
        var second = new KeyRecord<Guid> { Text = "second", Vector = new float[] { 0, 1, 0 } };

        await collection.UpsertAsync([first, second]);

        Assert.NotEqual(Guid.Empty, first.Key);
        Assert.NotEqual(first.Key, second.Key);
        var reopened = test.Reopen().GetCollection<Guid, KeyRecord<Guid>>("guids");
        Assert.Equal("second", (await reopened.GetAsync(second.Key))!.Text);
    }

    [Fact]
    public async Task A_key_of_the_wrong_type_is_rejected()
    {
        using var test = new StoreUnderTest(persisted: false);
        var definition = new VectorStoreCollectionDefinition
        {
            Properties = [new VectorStoreKeyProperty("Key", typeof(long)), new VectorStoreVectorProperty("Vector", typeof(ReadOnlyMemory<float>), 3)],
        };
        var collection = test.Store.GetDynamicCollection("dynamic-keys", definition);
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(new Dictionary<string, object?> { ["Key"] = 5L, ["Vector"] = new ReadOnlyMemory<float>([1, 2, 3]) });

        Assert.NotNull(await collection.GetAsync(5));
        Assert.NotNull(await collection.GetAsync(5L));
        await Assert.ThrowsAsync<ArgumentException>(() => collection.GetAsync("5"));
    }

    [Fact]
    public void Unsupported_key_type_is_rejected_when_the_collection_is_built()
    {
        using var store = new Vlm2VecVectorStore(databasePath: null);
        var exception = Assert.Throws<NotSupportedException>(() => store.GetCollection<DateTime, KeyRecord<DateTime>>("dates"));
        Assert.Contains("DateTime", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_data_type_round_trips_through_the_file()
    {
        using var test = new StoreUnderTest(persisted: true);
        var collection = test.Store.GetCollection<string, DataTypesRecord>("types");
        await collection.EnsureCollectionExistsAsync();
        var expected = new DataTypesRecord
        {
            Key = "all",
            String = "text \"quoted\" \n ünïcödé",
            Bool = true,
            Byte = 255,
            SByte = -128,
            Short = short.MinValue,
            Int = int.MinValue,
            Long = long.MaxValue,
            Float = 3.14159274f,
            FloatNaN = float.NaN,
            Double = double.Epsilon,
            Decimal = 79228162514264337593543950335m,
            DateTimeUtc = new DateTime(2024, 2, 29, 23, 59, 59, 999, DateTimeKind.Utc).AddTicks(1234),
            DateTimeOffset = new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.FromHours(5.5)),
            DateOnly = new DateOnly(1999, 12, 31),
            TimeOnly = new TimeOnly(23, 59, 58, 123),
            TimeSpan = TimeSpan.FromTicks(-123456789),
            Guid = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"),
            NullableInt = 42,
            NullableIntNull = null,
            StringNull = null,
            StringArray = ["a", "b", ""],
            IntArray = [1, -2, 3],
            StringList = ["x", "y"],
            DoubleList = [0.5, -1e300],
            ReadOnlyStrings = ["r1"],
            Vector = new float[] { 1, 2, 3 },
        };

        await collection.UpsertAsync(expected);
        var actual = await test.Reopen().GetCollection<string, DataTypesRecord>("types").GetAsync("all", new() { IncludeVectors = true });

        Assert.NotNull(actual);
        Assert.Equal(expected.String, actual.String);
        Assert.Equal(expected.Bool, actual.Bool);
        Assert.Equal(expected.Byte, actual.Byte);
        Assert.Equal(expected.SByte, actual.SByte);
        Assert.Equal(expected.Short, actual.Short);
        Assert.Equal(expected.Int, actual.Int);
        Assert.Equal(expected.Long, actual.Long);
        Assert.Equal(expected.Float, actual.Float);
        Assert.True(float.IsNaN(actual.FloatNaN));
        Assert.Equal(expected.Double, actual.Double);
        Assert.Equal(expected.Decimal, actual.Decimal);
        Assert.Equal(expected.DateTimeUtc, actual.DateTimeUtc);
        Assert.Equal(DateTimeKind.Utc, actual.DateTimeUtc.Kind);
        Assert.Equal(expected.DateTimeOffset, actual.DateTimeOffset);
        Assert.Equal(expected.DateTimeOffset.Offset, actual.DateTimeOffset.Offset);
        Assert.Equal(expected.DateOnly, actual.DateOnly);
        Assert.Equal(expected.TimeOnly, actual.TimeOnly);
        Assert.Equal(expected.TimeSpan, actual.TimeSpan);
        Assert.Equal(expected.Guid, actual.Guid);
        Assert.Equal(42, actual.NullableInt);
        Assert.Null(actual.NullableIntNull);
        Assert.Null(actual.StringNull);
        Assert.Equal(expected.StringArray, actual.StringArray);
        Assert.Equal(expected.IntArray, actual.IntArray);
        Assert.Equal(expected.StringList, actual.StringList);
        Assert.Equal(expected.DoubleList, actual.DoubleList);
        Assert.Equal(expected.ReadOnlyStrings, actual.ReadOnlyStrings);
        Assert.Equal([1f, 2f, 3f], actual.Vector.ToArray());
    }

    [Fact]
    public async Task Vector_property_types_round_trip()
    {
        using var test = new StoreUnderTest(persisted: true);
        var collection = test.Store.GetCollection<int, VectorTypesRecord>("vectors");
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(new VectorTypesRecord
        {
            Key = 1,
            Memory = new float[] { 1, 2 },
            NullableMemory = null,
            Array = [3, 4],
            Embedding = new Microsoft.Extensions.AI.Embedding<float>(new float[] { 5, 6 }),
        });

        var actual = await test.Reopen().GetCollection<int, VectorTypesRecord>("vectors").GetAsync(1, new() { IncludeVectors = true });

        Assert.Equal([1f, 2f], actual!.Memory.ToArray());
        Assert.Null(actual.NullableMemory);
        Assert.Equal([3f, 4f], actual.Array!);
        Assert.Equal([5f, 6f], actual.Embedding!.Vector.ToArray());
        Assert.Equal(1, await test.Store.GetCollection<int, VectorTypesRecord>("vectors")
            .SearchAsync(new float[] { 5, 6 }, top: 5, new() { VectorProperty = r => r.Embedding }).CountAsync());
        Assert.Equal(0, await test.Store.GetCollection<int, VectorTypesRecord>("vectors")
            .SearchAsync(new float[] { 5, 6 }, top: 5, new() { VectorProperty = r => r.NullableMemory }).CountAsync());
    }

    [Fact]
    public void Unsupported_data_type_is_rejected_when_the_collection_is_built()
    {
        using var store = new Vlm2VecVectorStore(databasePath: null);
        var exception = Assert.Throws<NotSupportedException>(() => store.GetCollection<string, UnsupportedDataRecord>("bad"));
        Assert.Contains("Nested", exception.Message, StringComparison.Ordinal);
    }

    private static async Task TestKeyAsync<TKey>(TKey key, TKey otherKey)
        where TKey : notnull
    {
        using var test = new StoreUnderTest(persisted: true);
        var collection = test.Store.GetCollection<TKey, KeyRecord<TKey>>("keys");
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync([new KeyRecord<TKey> { Key = key, Text = "one", Vector = new float[] { 1, 0, 0 } }, new KeyRecord<TKey> { Key = otherKey, Text = "two", Vector = new float[] { 0, 1, 0 } }]);

        var reopened = test.Reopen().GetCollection<TKey, KeyRecord<TKey>>("keys");
        var fetched = await reopened.GetAsync(key);
        var searched = await reopened.SearchAsync(new float[] { 0, 1, 0 }, top: 1).SingleAsync();
        await reopened.DeleteAsync(key);

        Assert.Equal(key, fetched!.Key);
        Assert.Equal("one", fetched.Text);
        Assert.Equal(otherKey, searched.Record.Key);
        Assert.Null(await test.Reopen().GetCollection<TKey, KeyRecord<TKey>>("keys").GetAsync(key));
    }

    public sealed class KeyRecord<TKey>
    {
        [VectorStoreKey]
        public TKey Key { get; set; } = default!;

        [VectorStoreData]
        public string? Text { get; set; }

        [VectorStoreVector(3)]
        public ReadOnlyMemory<float> Vector { get; set; }
    }

    public sealed class DataTypesRecord
    {
        [VectorStoreKey]
        public string Key { get; set; } = string.Empty;

        [VectorStoreData]
        public string String { get; set; } = string.Empty;

        [VectorStoreData]
        public bool Bool { get; set; }

        [VectorStoreData]
        public byte Byte { get; set; }

        [VectorStoreData]
        public sbyte SByte { get; set; }

        [VectorStoreData]
        public short Short { get; set; }

        [VectorStoreData]
        public int Int { get; set; }

        [VectorStoreData]
        public long Long { get; set; }

        [VectorStoreData]
        public float Float { get; set; }

        [VectorStoreData]
        public float FloatNaN { get; set; }

        [VectorStoreData]
        public double Double { get; set; }

        [VectorStoreData]
        public decimal Decimal { get; set; }

        [VectorStoreData]
        public DateTime DateTimeUtc { get; set; }

        [VectorStoreData]
        public DateTimeOffset DateTimeOffset { get; set; }

        [VectorStoreData]
        public DateOnly DateOnly { get; set; }

        [VectorStoreData]
        public TimeOnly TimeOnly { get; set; }

        [VectorStoreData]
        public TimeSpan TimeSpan { get; set; }

        [VectorStoreData]
        public Guid Guid { get; set; }

        [VectorStoreData]
        public int? NullableInt { get; set; }

        [VectorStoreData]
        public int? NullableIntNull { get; set; }

        [VectorStoreData]
        public string? StringNull { get; set; }

        [VectorStoreData]
        public string[] StringArray { get; set; } = [];

        [VectorStoreData]
        public int[] IntArray { get; set; } = [];

        [VectorStoreData]
        public List<string> StringList { get; set; } = [];

        [VectorStoreData]
        public IList<double> DoubleList { get; set; } = [];

        [VectorStoreData]
        public IReadOnlyList<string> ReadOnlyStrings { get; set; } = [];

        [VectorStoreVector(3)]
        public ReadOnlyMemory<float> Vector { get; set; }
    }

    public sealed class VectorTypesRecord
    {
        [VectorStoreKey]
        public int Key { get; set; }

        [VectorStoreVector(2)]
        public ReadOnlyMemory<float> Memory { get; set; }

        [VectorStoreVector(2)]
        public ReadOnlyMemory<float>? NullableMemory { get; set; }

        [VectorStoreVector(2)]
        public float[]? Array { get; set; }

        [VectorStoreVector(2)]
        public Microsoft.Extensions.AI.Embedding<float>? Embedding { get; set; }
    }

    public sealed class UnsupportedDataRecord
    {
        [VectorStoreKey]
        public string Key { get; set; } = string.Empty;

        [VectorStoreData]
        public Nested? Nested { get; set; }
    }

    public sealed class Nested
    {
        public int Value { get; set; }
    }
}
