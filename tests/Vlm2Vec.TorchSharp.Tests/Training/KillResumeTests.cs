using System.Diagnostics;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.TorchSharp.Tests.Training;

/// <summary>
/// A real training process (<c>vlm2vec train</c>) killed with SIGKILL right after a checkpoint resumes from it and ends
/// exactly where an uninterrupted process ends: the same step log (losses, learning rates, gradient norms) and the
/// same adapter bytes.
/// </summary>
[Collection(TrainingCollection.Name)]
public sealed class KillResumeTests : IClassFixture<BaseModelFixture>
{
    private readonly BaseModelFixture _base;

    public KillResumeTests(BaseModelFixture fixture) => _base = fixture;

    [Fact]
    [Trait("Category", "Process")]
    public async Task A_killed_training_process_resumes_on_the_uninterrupted_trajectory()
    {
        using var temp = new TempFolder("kill-resume");
        var data = WriteData(temp);

        var straight = temp.Combine("straight");
        var (code, output) = await RunAsync(Arguments(data, straight), kill: null);
        Assert.True(code == 0, output);

        var resumed = temp.Combine("resumed");
        var (killedCode, killedOutput) = await RunAsync(Arguments(data, resumed), kill: resumed);
        Assert.True(killedCode != 0, "the process finished before it could be killed:\n" + killedOutput);
        Assert.False(Directory.Exists(Path.Combine(resumed, "adapter")), "the killed run wrote its final outputs");
        var stepsAtKill = File.ReadAllLines(Path.Combine(resumed, "training_log.jsonl")).Length;
        Assert.InRange(stepsAtKill, 1, 23);

        (code, output) = await RunAsync(Arguments(data, resumed), kill: null);
        Assert.True(code == 0, output);
        Assert.Contains("resumed from step", output, StringComparison.Ordinal);

        Assert.Equal(File.ReadAllText(Path.Combine(straight, "training_log.jsonl")), File.ReadAllText(Path.Combine(resumed, "training_log.jsonl")));
        Assert.Equal(24, File.ReadAllLines(Path.Combine(resumed, "training_log.jsonl")).Length);
        Assert.Equal(
            File.ReadAllBytes(Path.Combine(straight, "adapter", "adapter_model.safetensors")),
            File.ReadAllBytes(Path.Combine(resumed, "adapter", "adapter_model.safetensors")));
    }

    private string[] Arguments(string data, string output) =>
    [
        "train", "--model", _base.Folder, "--data", data, "--output", output, "--mode", "dora", "--lora-dropout", "0.2",
        "--max-steps", "24", "--batch-size", "8", "--query-chunk", "3", "--target-chunk", "5", "--lr", "1e-3", "--warmup-steps", "2",
        "--save-every", "3", "--seed", "11", "--threads", "1", "--min-pixels", "3136", "--max-pixels", "3136", "--no-color",
    ];

    private static string WriteData(TempFolder temp)
    {
        var lines = new List<string>();
        foreach (var example in TrainingFixture.ImagePairs(3, 2))
        {
            var image = example.Query.Images[0].FilePath!;
            lines.Add($$"""{"qry": "<|image_1|>\nRepresent the given image for classification\n", "qry_image_path": "{{image}}", "pos_text": "{{example.Positive.Text}}"}""");
        }

        foreach (var example in TrainingFixture.TextPairs(10))
        {
            lines.Add($$"""{"qry": "{{example.Query.Instruction}} {{example.Query.Text}}\n", "pos_text": "{{example.Positive.Text}}"}""");
        }

        var path = temp.Combine("train.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    /// <summary>Runs the tool; with <paramref name="kill"/>, sends SIGKILL as soon as a checkpoint exists in that run folder.</summary>
    private static async Task<(int ExitCode, string Output)> RunAsync(string[] arguments, string? kill)
    {
        var start = new ProcessStartInfo(DotnetHost) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "vlm2vec.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var clock = Stopwatch.StartNew();
        if (kill is not null)
        {
            var checkpoints = Path.Combine(kill, "checkpoints");
            while (!process.HasExited && clock.Elapsed < TimeSpan.FromMinutes(3))
            {
                if (Directory.Exists(checkpoints) && Directory.EnumerateDirectories(checkpoints, "step-*").Any())
                {
                    process.Kill(entireProcessTree: true); // SIGKILL: no chance to save anything more
                    break;
                }

                await Task.Delay(5);
            }
        }

        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(limit.Token);
        return (process.ExitCode, await stdout + "\n" + await stderr);
    }

    private static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
}
