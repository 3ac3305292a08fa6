using System.Text.Json;
using Vlm2Vec.Cli.Commands;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Cli.Tests;

/// <summary><c>vlm2vec bench</c>: end to end on a tiny real Qwen2-VL model, the fake engine with an image folder, and its errors.</summary>
public sealed class BenchCommandTests
{
    [Fact]
    public async Task Bench_measures_every_batch_size_of_both_workloads_on_a_tiny_real_model()
    {
        using var folder = new TempFolder("vlm2vec-bench-model");
        ServeCommandTests.TinyModel.Write(folder.Path);

        var result = await CliHarness.RunAsync(
            ["bench", "--model", folder.Path, "--batch-sizes", "1,3", "--texts", "4", "--images", "2", "--image-size", "64", "--duration", "0.1", "--json"]);

        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        using var json = JsonDocument.Parse(result.Out);
        var root = json.RootElement;
        Assert.Equal("torchsharp-cpu", root.GetProperty("engine").GetString());
        Assert.Equal("cpu", root.GetProperty("device").GetString());
        Assert.Equal(ServeCommandTests.TinyModel.Hidden, root.GetProperty("dimension").GetInt32());
        Assert.Equal(Environment.ProcessorCount, root.GetProperty("machine").GetProperty("logicalCores").GetInt32());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("machine").GetProperty("runtime").GetString()));
        if (OperatingSystem.IsLinux())
        {
            Assert.Equal(3, root.GetProperty("machine").GetProperty("loadAverageStart").GetArrayLength());
        }

        var rows = root.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(
            new[] { "text/1", "text/3", "image/1", "image/3" },
            rows.Select(r => $"{r.GetProperty("workload").GetString()}/{r.GetProperty("batchSize").GetInt32()}"));
        foreach (var row in rows)
        {
            var batch = row.GetProperty("batchSize").GetInt32();
            var distinct = row.GetProperty("workload").GetString() == "text" ? 4 : 2;
            Assert.True(row.GetProperty("itemsPerSecond").GetDouble() > 0, row.ToString());
            Assert.True(row.GetProperty("items").GetInt32() >= Math.Max(distinct, batch), row.ToString()); // every input at least once
            Assert.Equal(row.GetProperty("calls").GetInt32() * batch, row.GetProperty("items").GetInt32());
            Assert.True(row.GetProperty("encoderCalls").GetInt32() >= row.GetProperty("calls").GetInt32(), row.ToString());
            var share = row.GetProperty("outsideEncoderShare").GetDouble();
            Assert.InRange(share, 0, 1);
            var p50 = row.GetProperty("latencyP50Ms").GetDouble();
            Assert.True(p50 > 0 && p50 <= row.GetProperty("latencyP95Ms").GetDouble(), row.ToString());
            Assert.True(row.GetProperty("peakWorkingSetMiB").GetDouble() > 0, row.ToString());
            var seconds = row.GetProperty("seconds").GetDouble();
            Assert.Equal(row.GetProperty("items").GetInt32() / seconds, row.GetProperty("itemsPerSecond").GetDouble(), 6);
        }

        Assert.Contains("image batch 3", result.Error, StringComparison.Ordinal); // progress on stderr
        Assert.Equal("synthetic 64x64 JPEG", root.GetProperty("settings").GetProperty("imageSource").GetString());
    }

    [Fact]
    public async Task The_table_shows_the_machine_and_one_row_per_batch_with_images_from_a_folder()
    {
        using var model = new TempFolder("vlm2vec-bench-fake");
        File.WriteAllText(Path.Combine(model.Path, FakeEngineFactory.MarkerFile), "test/bench-fake");
        var encoder = new FakeEvalEncoder("test/bench-fake");
        var images = SharedData.Path("captions", "coco-mini", "images");

        var result = await CliHarness.RunAsync(
            ["bench", "-m", model.Path, "-b", "2,4", "--texts", "0", "--images", "3", "--image-folder", images, "--duration", "0"],
            engines: [new FakeEngineFactory(encoder)]);

        Assert.True(result.ExitCode == ExitCodes.Success, result.ToString());
        Assert.Contains("test/bench-fake", result.Out, StringComparison.Ordinal);
        Assert.Contains($"{Environment.ProcessorCount} core(s)", result.Out, StringComparison.Ordinal);
        Assert.Contains("load average", result.Out, StringComparison.Ordinal);
        Assert.Contains("from " + images, result.Out, StringComparison.Ordinal);
        Assert.Contains("outside encoder", result.Out, StringComparison.Ordinal);
        Assert.Equal(2, result.OutLines.Count(l => l.StartsWith("│ image", StringComparison.Ordinal)));
        Assert.DoesNotContain("│ text", result.Out, StringComparison.Ordinal);
        Assert.True(encoder.Disposed);
        // Warm-up (2 + 4) and at least one pass over the 3 images per row (2 calls of 2, 1 call of 4).
        Assert.Equal(2 + 4 + 4 + 4, encoder.RowsEncoded);
    }

    [Theory]
    [InlineData("1,x")]
    [InlineData("0")]
    [InlineData("8,8")]
    [InlineData("")]
    public async Task A_bad_batch_size_list_is_a_usage_error(string sizes)
    {
        using var model = new TempFolder("vlm2vec-bench-fake");
        File.WriteAllText(Path.Combine(model.Path, FakeEngineFactory.MarkerFile), string.Empty);
        var encoder = new FakeEvalEncoder();

        var result = await CliHarness.RunAsync(["bench", "--model", model.Path, "--batch-sizes", sizes], engines: [new FakeEngineFactory(encoder)]);

        Assert.Equal(ExitCodes.UsageError, result.ExitCode);
        Assert.Contains("--batch-sizes", result.Error, StringComparison.Ordinal);
        Assert.Equal(0, encoder.RowsEncoded);
        Assert.Equal(string.Empty, result.Out);
    }

    [Fact]
    public async Task Other_bad_options_are_usage_errors()
    {
        using var model = new TempFolder("vlm2vec-bench-fake");
        foreach (var args in new[] { ["--texts", "0", "--images", "0"], ["--images", "-1"], ["--image-size", "10"], ["--duration", "-1"], new[] { "--threads", "0" } })
        {
            var result = await CliHarness.RunAsync(["bench", "--model", model.Path, .. args]);
            Assert.True(result.ExitCode == ExitCodes.UsageError, string.Join(' ', args) + "\n" + result);
        }
    }

    [Fact]
    public async Task A_missing_model_or_image_folder_gives_the_model_and_input_exit_codes()
    {
        using var folder = new TempFolder("vlm2vec-bench");
        var missing = await CliHarness.RunAsync(["bench", "--model", folder.Combine("nope"), "--duration", "0"]);
        Assert.Equal(ExitCodes.ModelError, missing.ExitCode);
        Assert.Contains("does not exist", missing.Error, StringComparison.Ordinal);
        Assert.Equal(string.Empty, missing.Out);

        var noImages = await CliHarness.RunAsync(["bench", "--model", folder.Path, "--image-folder", folder.Path]);
        Assert.Equal(ExitCodes.InputError, noImages.ExitCode);
        Assert.Contains("holds no image files", noImages.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Percentiles_are_nearest_rank_and_devices_come_from_engine_names()
    {
        var values = Enumerable.Range(1, 20).Select(v => (double)v).ToList();
        Assert.Equal(10, BenchCommand.Percentile(values, 0.50));
        Assert.Equal(19, BenchCommand.Percentile(values, 0.95));
        Assert.Equal(7, BenchCommand.Percentile([7], 0.95));
        Assert.Equal("cuda", BenchCommand.DeviceOf("onnxruntime-cuda", null));
        Assert.Equal("cuda:1", BenchCommand.DeviceOf("test", "cuda:1"));
        Assert.Equal(new[] { 1, 8, 32 }, BenchCommand.ParseBatchSizes(" 1, 8 ,32"));
    }

    [Fact]
    public void Synthetic_images_are_deterministic_jpegs_of_the_asked_size()
    {
        var a = BenchWorkload.SyntheticJpeg(3, 96);
        Assert.Equal(a, BenchWorkload.SyntheticJpeg(3, 96));
        Assert.NotEqual(a, BenchWorkload.SyntheticJpeg(4, 96));
        using var image = SixLabors.ImageSharp.Image.Load(a);
        Assert.Equal((96, 96), (image.Width, image.Height));
        Assert.NotEqual(BenchWorkload.Caption(0), BenchWorkload.Caption(1));
    }
}
