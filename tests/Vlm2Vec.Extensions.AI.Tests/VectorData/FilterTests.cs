using System.Linq.Expressions;
using Microsoft.Extensions.VectorData;
using Vlm2Vec.Extensions.AI.VectorData;
using Vlm2Vec.TestSupport;

#pragma warning disable CS0252 // Possible unintended reference comparison: the dynamic filters compare object to string, as users write them.
#pragma warning disable CS8605 // Unboxing a possibly null value.

namespace Vlm2Vec.Extensions.AI.Tests.VectorData;

/// <summary>The store behind <see cref="FilterTests"/>: a file-backed store, seeded once and reopened (so filters run on loaded data).</summary>
public sealed class FilterFixture : IAsyncLifetime
{
    public const string SpecialCharactersText = "Some 'text' with \"quotes\", \\backslash\\ and ünïcödé; DROP TABLE x; --";

    private readonly TempFolder _folder = new("vlm2vec-filter");

    public Vlm2VecVectorStore Store { get; private set; } = null!;

    public List<FilterRecord> TestData { get; } =
    [
        new() { Key = 1, Int = 8, Int2 = 80, String = "foo", Bool = true, StringArray = ["x", "y"], StringList = ["x", "y"], Vector = new float[] { 0.5f, 1, 1 } },
        new() { Key = 2, Int = 9, Int2 = 90, String = "bar", Bool = false, StringArray = ["a", "b"], StringList = ["a", "b"], Vector = new float[] { 1, 0.5f, 1 } },
        new() { Key = 3, Int = 9, Int2 = 9, String = "foo", Bool = true, StringArray = ["x"], StringList = ["x"], Vector = new float[] { 1, 1, 0.5f } },
        new() { Key = 4, Int = 10, Int2 = 100, String = null, Bool = false, StringArray = ["x", "y", "z"], StringList = ["x", "y", "z"], Vector = new float[] { 0.2f, 1, 1 } },
        new() { Key = 5, Int = 11, Int2 = 110, String = SpecialCharactersText, Bool = true, StringArray = ["y", "z"], StringList = ["y", "z"], Vector = new float[] { 1, 0.2f, 1 } },
    ];

    public static VectorStoreCollectionDefinition Definition => new()
    {
        Properties =
        [
            new VectorStoreKeyProperty(nameof(FilterRecord.Key), typeof(int)),
            new VectorStoreDataProperty(nameof(FilterRecord.Int), typeof(int)),
            new VectorStoreDataProperty(nameof(FilterRecord.Int2), typeof(int)),
            new VectorStoreDataProperty(nameof(FilterRecord.String), typeof(string)),
            new VectorStoreDataProperty(nameof(FilterRecord.Bool), typeof(bool)),
            new VectorStoreDataProperty(nameof(FilterRecord.StringArray), typeof(string[])),
            new VectorStoreDataProperty(nameof(FilterRecord.StringList), typeof(List<string>)),
            new VectorStoreVectorProperty(nameof(FilterRecord.Vector), typeof(ReadOnlyMemory<float>), 3),
        ],
    };

    public VectorStoreCollection<int, FilterRecord> Collection => Store.GetCollection<int, FilterRecord>("FilterTests", Definition);

    public VectorStoreCollection<object, Dictionary<string, object?>> DynamicCollection => Store.GetDynamicCollection("FilterTests", Definition);

    public async Task InitializeAsync()
    {
        var path = _folder.Combine("filters.db");
        using (var seeding = new Vlm2VecVectorStore(path))
        {
            var collection = seeding.GetCollection<int, FilterRecord>("FilterTests", Definition);
            await collection.EnsureCollectionExistsAsync();
            await collection.UpsertAsync(TestData);
        }

        Store = new Vlm2VecVectorStore(path);
    }

    public Task DisposeAsync()
    {
        Store.Dispose();
        _folder.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>The record of <see cref="FilterTests"/>.</summary>
public sealed class FilterRecord
{
    public int Key { get; set; }

    public int Int { get; set; }

    public int Int2 { get; set; }

    public string? String { get; set; }

    public bool Bool { get; set; }

    public string[] StringArray { get; set; } = [];

    public List<string> StringList { get; set; } = [];

    public ReadOnlyMemory<float> Vector { get; set; }
}

/// <summary>
/// Mirrors dotnet/extensions' <c>FilterTests</c>: every filter runs through <c>GetAsync(filter)</c> and
/// <c>SearchAsync(Filter = …)</c>, typed and dynamic, and must return exactly what LINQ-to-objects returns on the
/// same data. Filters the store cannot honour throw.
/// </summary>
public sealed class FilterTests(FilterFixture fixture) : IClassFixture<FilterFixture>
{
    private static readonly int StaticField = 8;
    private readonly int _memberField = 8;
    private readonly Wrapper _wrapper = new();

    [Fact]
    public Task Equal_with_int() => TestFilterAsync(r => r.Int == 8, r => (int)r["Int"] == 8);

    [Fact]
    public Task Equal_with_string() => TestFilterAsync(r => r.String == "foo", r => r["String"] == "foo");

    [Fact]
    public Task Equal_with_string_sql_injection_in_value()
    {
        var injection = "foo; DROP TABLE FilterTests;";
        return TestFilterAsync(r => r.String == injection, r => r["String"] == injection, expectZeroResults: true);
    }

    [Fact]
    public async Task Equal_with_string_sql_injection_in_name()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await fixture.DynamicCollection.SearchAsync(
            new ReadOnlyMemory<float>([1, 2, 3]), top: 1, new() { Filter = r => r["String = \"not\"; DROP TABLE FilterTests;"] == "" }).ToListAsync());
    }

    [Fact]
    public Task Equal_with_string_containing_special_characters() =>
        TestFilterAsync(r => r.String == FilterFixture.SpecialCharactersText, r => r["String"] == FilterFixture.SpecialCharactersText);

    [Fact]
    public Task Equal_with_string_is_not_Contains() => TestFilterAsync(r => r.String == "fo", r => r["String"] == "fo", expectZeroResults: true);

    [Fact]
    public Task Equal_reversed() => TestFilterAsync(r => 8 == r.Int, r => 8 == (int)r["Int"]);

    [Fact]
    public Task Equal_with_null_reference_type() => TestFilterAsync(r => r.String == null, r => r["String"] == null);

    [Fact]
    public Task Equal_with_null_captured()
    {
        string? s = null;
        return TestFilterAsync(r => r.String == s, r => r["String"] == s);
    }

    [Fact]
    public Task Equal_int_property_with_nonnull_nullable_int()
    {
        int? i = 8;
        return TestFilterAsync(r => r.Int == i, r => (int)r["Int"] == i);
    }

    [Fact]
    public Task Equal_int_property_with_null_nullable_int()
    {
        int? i = null;
        return TestFilterAsync(r => r.Int == i, r => (int)r["Int"] == i, expectZeroResults: true);
    }

    [Fact]
    public Task Equal_int_property_with_nonnull_nullable_int_Value()
    {
        int? i = 8;
        return TestFilterAsync(r => r.Int == i.Value, r => (int)r["Int"] == i.Value);
    }

    [Fact]
    public async Task Equal_int_property_with_null_nullable_int_Value()
    {
        int? i = null;
#pragma warning disable CS8629 // Nullable value type may be null: that is the point.
        await Assert.ThrowsAsync<InvalidOperationException>(() => fixture.Collection.GetAsync(r => r.Int == i.Value, top: 10).ToListAsync().AsTask());
        await Assert.ThrowsAsync<InvalidOperationException>(() => fixture.DynamicCollection.GetAsync(r => (int)r["Int"] == i.Value, top: 10).ToListAsync().AsTask());
#pragma warning restore CS8629
    }

    [Fact]
    public Task NotEqual_with_int() => TestFilterAsync(r => r.Int != 8, r => (int)r["Int"] != 8);

    [Fact]
    public Task NotEqual_with_string() => TestFilterAsync(r => r.String != "foo", r => r["String"] != "foo");

    [Fact]
    public Task NotEqual_with_null_reference_type() => TestFilterAsync(r => r.String != null, r => r["String"] != null);

    [Fact]
    public Task Bool() => TestFilterAsync(r => r.Bool, r => (bool)r["Bool"]);

    [Fact]
    public Task Bool_And_Bool() => TestFilterAsync(r => r.Bool && r.Bool, r => (bool)r["Bool"] && (bool)r["Bool"]);

    [Fact]
    public Task Bool_Or_Not_Bool() => TestFilterAsync(r => r.Bool || !r.Bool, r => (bool)r["Bool"] || !(bool)r["Bool"], expectAllResults: true);

    [Fact]
    public Task GreaterThan_with_int() => TestFilterAsync(r => r.Int > 9, r => (int)r["Int"] > 9);

    [Fact]
    public Task GreaterThanOrEqual_with_int() => TestFilterAsync(r => r.Int >= 9, r => (int)r["Int"] >= 9);

    [Fact]
    public Task LessThan_with_int() => TestFilterAsync(r => r.Int < 10, r => (int)r["Int"] < 10);

    [Fact]
    public Task LessThanOrEqual_with_int() => TestFilterAsync(r => r.Int <= 10, r => (int)r["Int"] <= 10);

    [Fact]
    public Task And() => TestFilterAsync(r => r.Int == 8 && r.String == "foo", r => (int)r["Int"] == 8 && r["String"] == "foo");

    [Fact]
    public Task Or() => TestFilterAsync(r => r.Int == 8 || r.String == "foo", r => (int)r["Int"] == 8 || r["String"] == "foo");

    [Fact]
    public Task And_within_Or() =>
        TestFilterAsync(r => (r.Int == 8 && r.String == "foo") || r.Int2 == 100, r => ((int)r["Int"] == 8 && r["String"] == "foo") || (int)r["Int2"] == 100);

    [Fact]
    public Task Or_within_And() =>
        TestFilterAsync(r => (r.Int == 8 || r.Int == 9) && r.String == "foo", r => ((int)r["Int"] == 8 || (int)r["Int"] == 9) && r["String"] == "foo");

    [Fact]
    public Task Not_over_And() => TestFilterAsync(r => !(r.Int == 8 && r.String == "foo"), r => !((int)r["Int"] == 8 && r["String"] == "foo"));

    [Fact]
    public Task Not_over_bool_And_Comparison() => TestFilterAsync(r => !r.Bool && r.Int != int.MaxValue, r => !(bool)r["Bool"] && (int)r["Int"] != int.MaxValue);

    [Fact]
    public Task Contains_over_field_string_array() => TestFilterAsync(r => r.StringArray.Contains("x"), r => ((string[])r["StringArray"]!).Contains("x"));

    [Fact]
    public Task Contains_over_field_string_List() => TestFilterAsync(r => r.StringList.Contains("x"), r => ((List<string>)r["StringList"]!).Contains("x"));

    [Fact]
    public Task Contains_over_inline_int_array() => TestFilterAsync(r => new[] { 8, 10 }.Contains(r.Int), r => new[] { 8, 10 }.Contains((int)r["Int"]));

    [Fact]
    public Task Contains_over_captured_string_array()
    {
        var array = new[] { "foo", "baz", "unknown" };
        return TestFilterAsync(r => array.Contains(r.String), r => array.Contains(r["String"]));
    }

#pragma warning disable RCS1196 // Call extension method as instance method
    [Fact]
    public Task Contains_with_Enumerable_Contains() =>
        TestFilterAsync(r => Enumerable.Contains(r.StringArray, "x"), r => Enumerable.Contains((string[])r["StringArray"]!, "x"));

    [Fact]
    public Task Contains_with_MemoryExtensions_Contains() =>
        TestFilterAsync(r => MemoryExtensions.Contains(r.StringArray, "x"), r => MemoryExtensions.Contains((string[])r["StringArray"]!, "x"));

    [Fact]
    public Task Contains_with_MemoryExtensions_Contains_with_null_comparer() =>
        TestFilterAsync(r => MemoryExtensions.Contains(r.StringArray, "x", comparer: null), r => MemoryExtensions.Contains((string[])r["StringArray"]!, "x", comparer: null));
#pragma warning restore RCS1196

    [Fact]
    public Task Any_with_Contains_over_captured_string_array()
    {
        string[] tags = ["x", "z", "nonexistent"];
        return TestFilterAsync(r => r.StringArray.Any(s => tags.Contains(s)), r => ((string[])r["StringArray"]!).Any(s => tags.Contains(s)));
    }

    [Fact]
    public Task Any_over_List_with_Contains_over_captured_string_array()
    {
        string[] tags = ["a", "nonexistent"];
        return TestFilterAsync(r => r.StringList.Any(s => tags.Contains(s)), r => ((List<string>)r["StringList"]!).Any(s => tags.Contains(s)));
    }

    [Fact]
    public Task Captured_local_variable()
    {
        var i = 8;
        return TestFilterAsync(r => r.Int == i, r => (int)r["Int"] == i);
    }

    [Fact]
    public Task Member_field() => TestFilterAsync(r => r.Int == _memberField, r => (int)r["Int"] == _memberField);

    [Fact]
    public Task Member_static_field() => TestFilterAsync(r => r.Int == StaticField, r => (int)r["Int"] == StaticField);

    [Fact]
    public Task Member_nested_access() => TestFilterAsync(r => r.Int == _wrapper.Value, r => (int)r["Int"] == _wrapper.Value);

    [Fact]
    public Task Key_in_filter() => TestFilterAsync(r => r.Key > 3, r => (int)r["Key"] > 3);

    [Fact]
    public Task String_methods_run_in_process() =>
        TestFilterAsync(r => r.String != null && r.String.StartsWith("fo", StringComparison.Ordinal), r => r["String"] != null && ((string)r["String"]!).StartsWith("fo", StringComparison.Ordinal));

    [Fact]
    public Task True() => TestFilterAsync(r => true, r => true, expectAllResults: true);

    [Fact]
    public async Task Filter_on_a_vector_property_is_not_supported()
    {
        var exception = await Assert.ThrowsAsync<NotSupportedException>(
            () => fixture.Collection.GetAsync(r => r.Vector.Length == 3, top: 10).ToListAsync().AsTask());
        Assert.Contains("vector property 'Vector'", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Filter_using_the_record_itself_is_not_supported()
    {
        var other = new FilterRecord();
        await Assert.ThrowsAsync<NotSupportedException>(() => fixture.Collection.GetAsync(r => r == other, top: 10).ToListAsync().AsTask());
        await Assert.ThrowsAsync<NotSupportedException>(() => fixture.DynamicCollection.GetAsync(r => r.ContainsKey("Int"), top: 10).ToListAsync().AsTask());
    }

    private async Task TestFilterAsync(
        Expression<Func<FilterRecord, bool>> filter,
        Expression<Func<Dictionary<string, object?>, bool>> dynamicFilter,
        bool expectZeroResults = false,
        bool expectAllResults = false)
    {
        var expected = fixture.TestData.AsQueryable().Where(filter).Select(r => r.Key).Order().ToList();
        Assert.True(expectZeroResults == (expected.Count == 0), "The test data does not exercise this filter as intended.");
        Assert.True(expectAllResults == (expected.Count == fixture.TestData.Count), "The test data does not exercise this filter as intended.");

        var viaGet = await fixture.Collection.GetAsync(filter, top: 100).Select(r => r.Key).ToListAsync();
        var viaSearch = await fixture.Collection.SearchAsync(new ReadOnlyMemory<float>([1, 1, 1]), top: 100, new() { Filter = filter }).Select(r => r.Record.Key).ToListAsync();
        var viaDynamicGet = await fixture.DynamicCollection.GetAsync(dynamicFilter, top: 100).Select(r => (int)r["Key"]!).ToListAsync();
        var viaDynamicSearch = await fixture.DynamicCollection.SearchAsync(new ReadOnlyMemory<float>([1, 1, 1]), top: 100, new() { Filter = dynamicFilter })
            .Select(r => (int)r.Record["Key"]!).ToListAsync();

        Assert.Equal(expected, viaGet.Order());
        Assert.Equal(expected, viaSearch.Order());
        Assert.Equal(expected, viaDynamicGet.Order());
        Assert.Equal(expected, viaDynamicSearch.Order());
    }

    private sealed class Wrapper
    {
        public int Value { get; } = 8;
    }
}
