using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Vlm2Vec.Cli.Commands;
using Vlm2Vec.TestSupport;
using Vlm2Vec.TorchSharp.Training;

namespace Vlm2Vec.Cli.Tests;

/// <summary><c>vlm2vec train</c>: options from the command line and a JSON config, errors, and real (tiny) runs.</summary>
public sealed class TrainCommandTests
{
    private const int SigInt = 2;

    private static ContrastiveTrainingOptions Resolve(params string[] args)
    {
        using var run = new CliRun(new CliEnvironment { Out = TextWriter.Null, Error = TextWriter.Null });
        var root = CliApplication.BuildRootCommand(run);
        var train = root.Subcommands.OfType<TrainCommand>().Single();
        var parsed = root.Parse(["train", .. args]);
        Assert.Empty(parsed.Errors);
        return train.BuildOptions(train.WithConfigFile(parsed));
    }

    [Fact]
    public void Command_line_options_map_onto_the_trainer_options()
    {
        var o = Resolve(
            "--model", "base", "--data", "a.jsonl", "--output", "out", "--mode", "lora", "--lora-r", "4", "--lora-targets", "q_proj,v_proj",
            "--no-grad-cache", "--time-limit", "90s", "--freeze", "model.embed_tokens", "--hard-negatives", "3", "--symmetric", "--dtype", "bf16",
            "--max-pixels", "200704", "--resume", "never", "--warmup-steps", "7", "--max-grad-norm", "0");

        Assert.Equal(FineTuningMode.Lora, o.Mode);
        Assert.False(o.Adapter.UseDora);
        Assert.Equal(4, o.Adapter.R);
        Assert.Equal(["q_proj", "v_proj"], o.Adapter.TargetModules);
        Assert.Null(o.QueryChunkSize);
        Assert.Null(o.TargetChunkSize);
        Assert.Equal(TimeSpan.FromSeconds(90), o.TimeLimit);
        Assert.Equal(["model.embed_tokens"], o.FrozenParameterPrefixes);
        Assert.Equal(3, o.HardNegatives);
        Assert.True(o.SymmetricLoss);
        Assert.Equal(global::TorchSharp.torch.ScalarType.BFloat16, o.DType);
        Assert.Equal(200704, o.Preprocessing.ImageProcessor.MaxPixels);
        Assert.Equal(ResumeBehavior.Never, o.Resume);
        Assert.Equal(7, o.WarmupSteps);
        Assert.Equal(0, o.MaxGradNorm);

        var defaults = Resolve("--model", "base", "--data", "a.jsonl", "--output", "out");
        Assert.Equal(FineTuningMode.Lora, defaults.Mode);
        Assert.True(defaults.Adapter.UseDora);
        Assert.Equal(16, defaults.Adapter.R);
        Assert.Equal((8, 8), (defaults.QueryChunkSize, defaults.TargetChunkSize));
        Assert.Equal(0.02, defaults.Temperature);
        Assert.Null(defaults.TrainVisionTower);

        var full = Resolve("--init-config", "c.json", "--tokenizer", "t", "--data", "a.jsonl", "--output", "out", "--freeze-vision", "--resume", "runs/x/checkpoints/step-0000100");
        Assert.Equal(FineTuningMode.Full, full.Mode);
        Assert.False(full.TrainVisionTower);
        Assert.Equal("runs/x/checkpoints/step-0000100", full.ResumeFromCheckpoint);
    }

    [Fact]
    public void A_json_config_supplies_options_the_command_line_overrides_and_paths_are_relative_to_it()
    {
        using var temp = new TempFolder("train-config");
        var config = temp.Combine("conf", "train.json");
        Directory.CreateDirectory(Path.GetDirectoryName(config)!);
        File.WriteAllText(config, """
            {
              // comments are allowed
              "model": "../base", "data": ["one.jsonl", "/abs/two.jsonl"], "output": "runs/r1",
              "batch-size": 32, "lr": 0.001, "symmetric": true, "query-chunk": 4, "seed": 7,
            }
            """);

        var o = Resolve("--config", config, "--batch-size", "16");

        Assert.Equal(16, o.BatchSize);
        Assert.Equal(0.001, o.LearningRate);
        Assert.True(o.SymmetricLoss);
        Assert.Equal(4, o.QueryChunkSize);
        Assert.Equal(7, o.Seed);
        Assert.Equal(temp.Combine("base"), o.BaseModelFolder);
        Assert.Equal(temp.Combine("conf", "runs", "r1"), o.OutputFolder);
    }

    [Fact]
    public async Task Unknown_config_keys_missing_options_and_bad_values_are_usage_errors()
    {
        using var temp = new TempFolder("train-usage");
        var config = temp.Combine("bad.json");
        File.WriteAllText(config, """{"batch-sise": 3}""");
        var result = await CliHarness.RunAsync(["train", "--config", config]);
        Assert.Equal(ExitCodes.UsageError, result.ExitCode);
        Assert.Contains("unknown option 'batch-sise'", result.Error, StringComparison.Ordinal);

        result = await CliHarness.RunAsync(["train", "--model", "m", "--data", "d.jsonl"]);
        Assert.Equal(ExitCodes.UsageError, result.ExitCode);
        Assert.Contains("--output is required", result.Error, StringComparison.Ordinal);

        result = await CliHarness.RunAsync(["train", "--model", "m", "--data", "d.jsonl", "--output", "o", "--mode", "qlora"]);
        Assert.Equal(ExitCodes.UsageError, result.ExitCode);
        Assert.Contains("--mode 'qlora'", result.Error, StringComparison.Ordinal);

        result = await CliHarness.RunAsync(["train", "--model", "m", "--data", "d.jsonl", "--output", "o", "--time-limit", "soon"]);
        Assert.Equal(ExitCodes.UsageError, result.ExitCode);
    }

    [Fact]
    public async Task A_tiny_model_trains_from_scratch_and_prints_its_model_folder()
    {
        using var temp = new TempFolder("train-run");
        var (data, config) = WriteTinyRun(temp, badLine: false);
        var output = temp.Combine("run");

        var result = await CliHarness.RunAsync(["train", "--init-config", config, "--tokenizer", SharedData.Qwen2VlTokenizerFolder, "--data", data, "--output", output,
            "--max-steps", "2", "--batch-size", "4", "--threads", "1", "--lr", "1e-3"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal([Path.Combine(output, "model")], result.OutLines);
        Assert.Contains("completed", result.Error, StringComparison.Ordinal);
        Assert.Contains("step 2/2", result.Error, StringComparison.Ordinal);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(output, "training_log.jsonl")).Length);
        Assert.True(File.Exists(Path.Combine(output, "model", "model.safetensors")));
    }

    [Fact]
    public async Task Under_bad_rows_fail_a_missing_image_is_an_input_error_naming_the_line()
    {
        using var temp = new TempFolder("train-bad");
        var (data, config) = WriteTinyRun(temp, badLine: true);
        var result = await CliHarness.RunAsync(["train", "--init-config", config, "--tokenizer", SharedData.Qwen2VlTokenizerFolder, "--data", data,
            "--output", temp.Combine("run"), "--max-steps", "1", "--bad-rows", "fail"]);
        Assert.Equal(ExitCodes.InputError, result.ExitCode);
        Assert.Contains("train.jsonl:3", result.Error, StringComparison.Ordinal);
        Assert.Contains("nowhere.png", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Process")]
    public async Task Ctrl_c_saves_a_checkpoint_exits_130_and_the_same_command_continues()
    {
        Assert.False(OperatingSystem.IsWindows(), "This test sends SIGINT with kill(2); it runs on Linux and macOS.");
        using var temp = new TempFolder("train-sigint");
        var (data, config) = WriteTinyRun(temp, badLine: false);
        var output = temp.Combine("run");
        string[] args =
        [
            Path.Combine(AppContext.BaseDirectory, "vlm2vec.dll"), "train", "--init-config", config, "--tokenizer", SharedData.Qwen2VlTokenizerFolder,
            "--data", data, "--output", output, "--max-steps", "400", "--batch-size", "4", "--threads", "1", "--save-every", "0",
        ];

        using (var child = new ChildProcess(RepositoryFiles.DotnetHost, args))
        {
            var log = Path.Combine(output, "training_log.jsonl");
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (!(File.Exists(log) && new FileInfo(log).Length > 0) && waited.Elapsed < TimeSpan.FromMinutes(2) && !child.Process.HasExited)
            {
                await Task.Delay(20);
            }

            Assert.False(child.Process.HasExited, $"The tool ended before training started.\n{child.Out}\n{child.Error}");
            Assert.Equal(0, Kill(child.Process.Id, SigInt));
            var exitCode = await child.WaitAsync(TimeSpan.FromMinutes(2));

            Assert.True(exitCode == ExitCodes.Interrupted, $"exit {exitCode}\n{child.Out}\n{child.Error}");
            Assert.Contains("Checkpoint saved", child.Error, StringComparison.Ordinal);
            Assert.Contains("error: interrupted.", child.Error, StringComparison.Ordinal);
        }

        var checkpoint = Assert.Single(Directory.GetDirectories(Path.Combine(output, "checkpoints"), "step-*"));
        var step = int.Parse(Path.GetFileName(checkpoint)["step-".Length..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(step, 1, 399);
        Assert.Equal(step, File.ReadAllLines(Path.Combine(output, "training_log.jsonl")).Length);
        var state = JsonNode.Parse(File.ReadAllText(Path.Combine(checkpoint, "trainer_state.json")))!;
        Assert.Equal(step, state["step"]!.GetValue<int>());

        // The same command with fewer remaining steps would be other options; resume and stop again right away instead.
        using (var again = new ChildProcess(RepositoryFiles.DotnetHost, [.. args, "--time-limit", "1s"]))
        {
            var exitCode = await again.WaitAsync(TimeSpan.FromMinutes(2));
            Assert.True(exitCode == 0, $"exit {exitCode}\n{again.Out}\n{again.Error}");
            Assert.Contains($"resumed from step {step}", again.Error, StringComparison.Ordinal);
        }
    }

    private static (string Data, string Config) WriteTinyRun(TempFolder temp, bool badLine)
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(SharedData.Qwen2VlTokenizerFolder, "config.json")))!.AsObject();
        config["hidden_size"] = 32;
        config["intermediate_size"] = 64;
        config["num_hidden_layers"] = 1;
        config["num_attention_heads"] = 2;
        config["num_key_value_heads"] = 1;
        config["rope_scaling"] = JsonNode.Parse("""{"type": "mrope", "mrope_section": [2, 3, 3]}""");
        config["vision_config"] = JsonNode.Parse("""{"depth": 1, "embed_dim": 32, "mlp_ratio": 2, "num_heads": 2, "in_chans": 3, "hidden_size": 32, "patch_size": 14, "spatial_merge_size": 2, "spatial_patch_size": 14, "temporal_patch_size": 2}""");
        var configPath = temp.Combine("config.json");
        File.WriteAllText(configPath, config.ToJsonString());

        var lines = new List<string>();
        foreach (var word in new[] { "cat", "dog", "bird", "fish", "tree", "car", "boat", "plane" })
        {
            lines.Add($$"""{"qry": "Find the word for a {{word}}\n", "pos_text": "{{word}}"}""");
        }

        if (badLine)
        {
            lines.Insert(2, """{"qry": "<|image_1|>\nRepresent the given image\n", "qry_image_path": "nowhere.png", "pos_text": "x"}""");
        }

        var data = temp.Combine("train.jsonl");
        File.WriteAllLines(data, lines);
        return (data, configPath);
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Kill(int pid, int signal);
}
