using System.Text.Json;
using Parquet.Serialization;
using Parquet.Schema;
using Vlm2Vec.Evaluation;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Core.Tests.Evaluation;

public sealed class MmebDataLoaderTests
{
    private const string Good =
        """{"qry_text": "<|image_1|>\nRepresent the given image for classification\n", "qry_img_path": "a.png", "tgt_text": ["cat", "dog"], "tgt_img_path": ["", ""]}""";

    private static async Task<EvaluationDataException> LoadFailureAsync(TempFolder folder, params string[] lines)
    {
        var path = folder.Combine("bad_cls.jsonl");
        await File.WriteAllLinesAsync(path, lines);
        return await Assert.ThrowsAsync<EvaluationDataException>(() => MmebDataLoader.LoadFileAsync(path));
    }

    private static TempFolder FolderWithImages()
    {
        var folder = new TempFolder("vlm2vec-eval");
        File.WriteAllBytes(folder.Combine("a.png"), [1, 2, 3]);
        File.WriteAllBytes(folder.Combine("b.png"), [4, 5, 6]);
        return folder;
    }

    [Theory]
    [InlineData("coco-mini_i2t", 239, MmebMetaTask.Retrieval)]
    [InlineData("coco-mini_t2i", 239, MmebMetaTask.Retrieval)]
    [InlineData("caltech101-test10_cls", 1010, MmebMetaTask.Classification)]
    [InlineData("pope-coco-mini_vqa", 54, MmebMetaTask.VisualQuestionAnswering)]
    public async Task The_derived_sets_load_with_their_meta_task_from_the_name(string name, int rows, MmebMetaTask task)
    {
        var dataset = await EvalTestData.LoadAsync(name);

        Assert.Equal(name, dataset.Name);
        Assert.Equal(rows, dataset.Rows.Count);
        Assert.Equal(task, dataset.MetaTask);
        Assert.Null(dataset.IsOutOfDistribution); // not an MMEB dataset: counted in its meta-task and overall only
        Assert.Null(dataset.Catalog);
        Assert.Equal(0, dataset.SkippedRowCount);
        Assert.All(dataset.Rows, row => Assert.Equal(row.TargetTexts.Count, row.TargetImagePaths.Count));
        Assert.Equal(1, dataset.Rows[0].LineNumber);
        Assert.Equal(EvalTestData.Derived(name), dataset.Rows[0].SourcePath);
    }

    [Fact]
    public async Task The_derived_rows_keep_their_strings_verbatim()
    {
        var dataset = await EvalTestData.LoadAsync("coco-mini_t2i", limit: 2);

        var row = dataset.Rows[0];
        Assert.Equal(2, dataset.Rows.Count);
        Assert.Equal(2, dataset.RowLimit);
        Assert.StartsWith("Find me an everyday image that matches the given caption: ", row.QueryText, StringComparison.Ordinal);
        Assert.EndsWith("\n", row.QueryText, StringComparison.Ordinal);
        Assert.Equal(string.Empty, row.QueryImagePath);
        Assert.Equal("<|image_1|>\nRepresent the given image.\n", row.TargetTexts[0]);
        Assert.StartsWith("captions/coco-mini/images/", row.TargetImagePaths[0], StringComparison.Ordinal);
        Assert.True(File.Exists(dataset.ResolveImagePath(row.TargetImagePaths[0])));
    }

    [Fact]
    public async Task Dedup_counts_on_the_derived_data_match_an_independent_count()
    {
        foreach (var name in new[] { "coco-mini_i2t", "coco-mini_t2i", "caltech101-test10_cls", "pope-coco-mini_vqa" })
        {
            var queries = new HashSet<(string, string)>();
            var candidates = new HashSet<(string, string)>();
            var slots = 0L;
            foreach (var line in File.ReadLines(EvalTestData.Derived(name)))
            {
                using var row = JsonDocument.Parse(line);
                var root = row.RootElement;
                queries.Add((root.GetProperty("qry_text").GetString()!, root.GetProperty("qry_img_path").GetString()!));
                var texts = root.GetProperty("tgt_text").EnumerateArray().Select(e => e.GetString()!).ToList();
                var images = root.GetProperty("tgt_img_path").EnumerateArray().Select(e => e.GetString()!).ToList();
                slots += texts.Count;
                candidates.UnionWith(texts.Zip(images));
            }

            var plan = DatasetPlan.Build(await EvalTestData.LoadAsync(name));
            Assert.Equal(queries.Count, plan.Queries.Count);
            Assert.Equal(candidates.Count, plan.Candidates.Count);
            Assert.Equal(slots, plan.RowCandidates.LongLength);
        }

        // The README's figures: 1,010 Caltech queries over 101 class names; coco candidate lists of 239.
        var caltech = DatasetPlan.Build(await EvalTestData.LoadAsync("caltech101-test10_cls"));
        Assert.Equal((1010, 101, 1010L * 101), (caltech.Queries.Count, caltech.Candidates.Count, caltech.RowCandidates.LongLength));
        var t2i = DatasetPlan.Build(await EvalTestData.LoadAsync("coco-mini_t2i"));
        Assert.Equal(239, t2i.Candidates.Count); // the same target string 239 times, told apart by the image path
        Assert.Single(t2i.Candidates.Select(c => c.Text).Distinct());
    }

    [Fact]
    public async Task A_folder_loads_every_file_and_mmeb_names_map_to_the_catalog()
    {
        using var folder = FolderWithImages();
        File.WriteAllText(folder.Combine("ImageNet_1K.jsonl"), Good + "\n");
        File.WriteAllText(folder.Combine("visualnews_i2t.jsonl"), Good + "\n\n");
        File.WriteAllText(folder.Combine("notes.txt"), "ignored");

        var datasets = await MmebDataLoader.LoadAsync([folder.Path]);

        Assert.Equal(["ImageNet-1K", "VisualNews_i2t"], datasets.Select(d => d.Name));
        Assert.Equal(MmebMetaTask.Classification, datasets[0].MetaTask);
        Assert.False(datasets[0].IsOutOfDistribution);
        Assert.Same(MmebCatalog.Get("ImageNet-1K"), datasets[0].Catalog);
        Assert.Equal(MmebMetaTask.Retrieval, datasets[1].MetaTask);
        Assert.Equal(Path.GetFullPath(folder.Path), datasets[0].ImageRoot);
    }

    [Fact]
    public async Task An_mmeb_eval_parquet_file_written_by_another_implementation_loads()
    {
        using var images = FolderWithImages();
        foreach (var name in new[] { "n0.png", "n1.png", "n2.png" })
        {
            Directory.CreateDirectory(images.Combine("images"));
            File.WriteAllBytes(images.Combine("images", name), [7]);
        }

        var datasets = await MmebDataLoader.LoadAsync([EvalTestData.Fixture("N24News")], new MmebDataLoadOptions { ImageRoot = images.Path });

        var dataset = Assert.Single(datasets);
        Assert.Equal("N24News", dataset.Name); // from the folder of test-00000-of-00001.parquet
        Assert.Equal(MmebMetaTask.Classification, dataset.MetaTask);
        Assert.False(dataset.IsOutOfDistribution);
        Assert.Equal(4, dataset.Rows.Count);
        Assert.Equal([1, 2, 3, 4], dataset.Rows.Select(r => r.LineNumber)); // across the file's two row groups
        Assert.Equal("<|image_1|>\nRepresent the given news image with the following caption for domain classification: Sourdough, step by step.\n", dataset.Rows[3].QueryText);
        Assert.Equal(["food", "travel", "science", "sports"], dataset.Rows[3].TargetTexts);
        Assert.Equal(["", "", "", ""], dataset.Rows[3].TargetImagePaths);
        Assert.Equal("images/n2.png", dataset.Rows[2].QueryImagePath);
    }

    [Fact]
    public async Task A_parquet_file_without_a_required_column_is_refused_naming_it()
    {
        using var folder = FolderWithImages();
        var path = folder.Combine("OK-VQA.parquet");
        var schema = new ParquetSchema(new DataField<string>("qry_text"), new DataField<string>("qry_img_path"), new DataField<string>("tgt_text"));
        var rows = new List<IDictionary<string, object?>> { new Dictionary<string, object?> { ["qry_text"] = "q", ["qry_img_path"] = "", ["tgt_text"] = "a" } };
        await using (var stream = File.Create(path))
        {
            await ParquetSerializer.SerializeUntypedAsync(rows, schema, stream);
        }

        var error = await Assert.ThrowsAsync<EvaluationDataException>(() => MmebDataLoader.LoadFileAsync(path));
        Assert.Equal("tgt_img_path", error.Field);
        Assert.Contains("no column 'tgt_img_path'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_candidate_list_names_the_line_and_field()
    {
        using var folder = FolderWithImages();
        var error = await LoadFailureAsync(folder, Good, """{"qry_text": "q", "qry_img_path": "", "tgt_img_path": [""]}""");

        Assert.Equal(2, error.LineNumber);
        Assert.Equal("tgt_text", error.Field);
        Assert.Contains("line 2", error.Message, StringComparison.Ordinal);
        Assert.Contains("field 'tgt_text' is missing", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("bad_cls.jsonl", error.FilePath, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mismatched_list_lengths_name_the_line_and_field()
    {
        using var folder = FolderWithImages();
        var error = await LoadFailureAsync(folder, Good, Good, """{"qry_text": "q", "qry_img_path": "", "tgt_text": ["a", "b", "c"], "tgt_img_path": ["", ""]}""");

        Assert.Equal(3, error.LineNumber);
        Assert.Equal("tgt_img_path", error.Field);
        Assert.Contains("'tgt_img_path' has 2 entries but 'tgt_text' has 3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_image_file_names_the_line_field_and_image_root()
    {
        using var folder = FolderWithImages();
        var error = await LoadFailureAsync(folder, """{"qry_text": "q", "qry_img_path": "", "tgt_text": ["<|image_1|>", "<|image_1|>"], "tgt_img_path": ["a.png", "missing/c.png"]}""");

        Assert.Equal(1, error.LineNumber);
        Assert.Equal("tgt_img_path[1]", error.Field);
        Assert.Contains("'missing/c.png'", error.Message, StringComparison.Ordinal);
        Assert.Contains(Path.GetFullPath(folder.Path), error.Message, StringComparison.Ordinal);
        Assert.Contains("--image-root", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_derived_data_without_its_image_root_fails_on_the_first_image()
    {
        var error = await Assert.ThrowsAsync<EvaluationDataException>(() => MmebDataLoader.LoadFileAsync(EvalTestData.Derived("coco-mini_i2t")));

        Assert.Equal(1, error.LineNumber);
        Assert.Equal("qry_img_path", error.Field);
        Assert.Contains("captions/coco-mini/images/000000000790.jpg", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"qry_text": 3, "qry_img_path": "", "tgt_text": ["a"], "tgt_img_path": [""]}""", "qry_text", "must be a string, but it is a number")]
    [InlineData("""{"qry_img_path": "", "tgt_text": ["a"], "tgt_img_path": [""]}""", "qry_text", "field 'qry_text' is missing")]
    [InlineData("""{"qry_text": "q", "tgt_text": ["a"], "tgt_img_path": [""]}""", "qry_img_path", "field 'qry_img_path' is missing")]
    [InlineData("""{"qry_text": "q", "qry_img_path": "", "tgt_text": "a", "tgt_img_path": [""]}""", "tgt_text", "must be a list of strings, but it is a string")]
    [InlineData("""{"qry_text": "q", "qry_img_path": "", "tgt_text": [], "tgt_img_path": []}""", "tgt_text", "empty list")]
    [InlineData("""{"qry_text": "q", "qry_img_path": "", "tgt_text": ["a", null], "tgt_img_path": ["", ""]}""", "tgt_text[1]", "'tgt_text[1]' is null")]
    [InlineData("""{"qry_text": "q", "qry_img_path": "", "tgt_text": ["a", 5], "tgt_img_path": ["", ""]}""", "tgt_text[1]", "must be a string, but it is a number")]
    [InlineData("""{"qry_text": "", "qry_img_path": "", "tgt_text": ["a"], "tgt_img_path": [""]}""", "qry_text", "neither text")]
    [InlineData("""{"qry_text": "q", "qry_img_path": "", "tgt_text": ["a", ""], "tgt_img_path": ["", ""]}""", "tgt_text[1]", "candidate 1 has neither text")]
    [InlineData("""["not", "an", "object"]""", null, "not a JSON object")]
    [InlineData("""{"qry_text": "q", """, null, "not valid JSON")]
    public async Task Malformed_rows_are_reported_with_line_and_field(string line, string? field, string problem)
    {
        using var folder = FolderWithImages();
        var error = await LoadFailureAsync(folder, Good, line);

        Assert.Equal(2, error.LineNumber);
        Assert.Equal(field, error.Field);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.Contains("line 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Null_image_paths_mean_no_image()
    {
        using var folder = FolderWithImages();
        var path = folder.Combine("nulls_cls.jsonl");
        File.WriteAllText(path, """{"qry_text": "q", "qry_img_path": null, "tgt_text": ["a", "b"], "tgt_img_path": [null, "b.png"]}""");

        var row = Assert.Single((await MmebDataLoader.LoadFileAsync(path)).Rows);
        Assert.Equal(string.Empty, row.QueryImagePath);
        Assert.Equal(["", "b.png"], row.TargetImagePaths);
    }

    [Fact]
    public async Task Skipping_malformed_rows_counts_them_and_keeps_the_rest()
    {
        using var folder = FolderWithImages();
        var path = folder.Combine("mixed_cls.jsonl");
        File.WriteAllLines(path,
        [
            Good,
            """{"qry_text": "q", "qry_img_path": ""}""",
            Good.Replace("a.png", "gone.png", StringComparison.Ordinal),
            Good,
            "{",
        ]);

        var dataset = await MmebDataLoader.LoadFileAsync(path, new MmebDataLoadOptions { InvalidRows = InvalidDataHandling.Skip });

        Assert.Equal([1, 4], dataset.Rows.Select(r => r.LineNumber));
        Assert.Equal(3, dataset.SkippedRowCount);
        Assert.Equal(3, dataset.SkippedRowMessages.Count);
        Assert.Contains("line 2", dataset.SkippedRowMessages[0], StringComparison.Ordinal);
        Assert.Contains("gone.png", dataset.SkippedRowMessages[1], StringComparison.Ordinal);
        Assert.Contains("line 5", dataset.SkippedRowMessages[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Files_folders_and_names_that_cannot_be_used_are_refused()
    {
        using var folder = FolderWithImages();
        await Assert.ThrowsAsync<EvaluationDataException>(() => MmebDataLoader.LoadAsync([folder.Combine("nope.jsonl")]));
        await Assert.ThrowsAsync<EvaluationDataException>(() => MmebDataLoader.LoadAsync([folder.Path])); // no data files
        File.WriteAllText(folder.Combine("data.csv"), "x");
        await Assert.ThrowsAsync<EvaluationDataException>(() => MmebDataLoader.LoadFileAsync(folder.Combine("data.csv")));
        await Assert.ThrowsAsync<EvaluationDataException>(() => MmebDataLoader.LoadAsync([folder.Path], new MmebDataLoadOptions { ImageRoot = folder.Combine("no-such-root") }));

        File.WriteAllText(folder.Combine("empty_cls.jsonl"), "\n\n");
        var empty = await Assert.ThrowsAsync<EvaluationDataException>(() => MmebDataLoader.LoadFileAsync(folder.Combine("empty_cls.jsonl")));
        Assert.Contains("has no rows", empty.Message, StringComparison.Ordinal);

        Directory.CreateDirectory(folder.Combine("x"));
        File.WriteAllText(folder.Combine("GQA.jsonl"), Good);
        File.WriteAllText(folder.Combine("x", "gqa.jsonl"), Good);
        var twice = await Assert.ThrowsAsync<EvaluationDataException>(() => MmebDataLoader.LoadAsync([folder.Combine("GQA.jsonl"), folder.Combine("x", "gqa.jsonl")]));
        Assert.Contains("Two data files give the dataset 'GQA'", twice.Message, StringComparison.Ordinal);
    }
}
