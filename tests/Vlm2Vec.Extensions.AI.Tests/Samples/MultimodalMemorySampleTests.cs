using MultimodalMemory;
using Vlm2Vec.Extensions.AI.Tests.Embeddings;
using Vlm2Vec.Extensions.AI.Tests.Support;
using Vlm2Vec.TestSupport;

namespace Vlm2Vec.Extensions.AI.Tests.Samples;

/// <summary>The <c>samples/MultimodalMemory</c> app run end to end: ingest a folder, answer text and image queries, reopen.</summary>
public sealed class MultimodalMemorySampleTests(TinyCheckpointFixture checkpoint) : IClassFixture<TinyCheckpointFixture>, IDisposable
{
    private readonly TempFolder _work = new("vlm2vec-sample");

    public void Dispose() => _work.Dispose();

    private string CreateDataFolder()
    {
        var data = _work.Combine("data");
        Directory.CreateDirectory(Path.Combine(data, "notes"));
        File.Copy(TestModel.ImagePath("dalmatian"), Path.Combine(data, "dog.jpg"));
        File.WriteAllText(Path.Combine(data, "dog.txt"), "our spotted dalmatian in the park");
        File.Copy(TestModel.ImagePath("pizza"), Path.Combine(data, "pizza.jpg"));
        File.WriteAllText(Path.Combine(data, "notes", "vet.md"), "The vet appointment for the dalmatian is on Friday at nine.");
        File.WriteAllText(Path.Combine(data, "notes", "tax.txt"), "File the quarterly tax report before the end of the month.");
        return data;
    }

    private async Task<(int Code, string Output)> RunAsync(MemoryAppOptions options, IEnumerable<IVlm2VecEncoderFactory>? engines = null)
    {
        using var output = new StringWriter();
        var code = await new MemoryApp(options, output, engines).RunAsync(TextReader.Null);
        return (code, output.ToString());
    }

    [Fact]
    public async Task Ingests_a_folder_and_answers_text_and_image_queries_with_citations()
    {
        var data = CreateDataFolder();
        var model = TestEncoderFactory.CreateModelFolder(_work, "hashing-demo");
        var options = MemoryAppOptions.Parse(["--model", model, "--data", data, "--db", _work.Combine("memory.db"), "--query", "when is the dalmatian vet appointment", "--image", "pizza.jpg", "--top", "1"]);

        var (code, output) = await RunAsync(options, [new TestEncoderFactory()]);

        Assert.Equal(0, code);
        Assert.Contains("Ingested 4 new item(s)", output, StringComparison.Ordinal);
        var lines = output.Split('\n');
        var afterQuestion = lines[Array.FindIndex(lines, l => l.StartsWith("Question:", StringComparison.Ordinal)) + 1];
        var afterImage = lines[Array.FindIndex(lines, l => l.StartsWith("Image:", StringComparison.Ordinal)) + 1];
        Assert.Contains(Path.Combine(data, "notes", "vet.md"), afterQuestion, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(data, "pizza.jpg"), afterImage, StringComparison.Ordinal);
        Assert.Contains("[memory:", afterImage, StringComparison.Ordinal);

        var (again, secondOutput) = await RunAsync(MemoryAppOptions.Parse(["--model", model, "--data", data, "--db", _work.Combine("memory.db")]), [new TestEncoderFactory()]);
        Assert.Equal(0, again);
        Assert.Contains("Ingested 0 new item(s)", secondOutput, StringComparison.Ordinal);
        Assert.Contains("4 already in memory", secondOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Runs_on_a_checkpoint_folder_with_the_default_TorchSharp_engine()
    {
        var data = CreateDataFolder();
        var options = MemoryAppOptions.Parse(["--model", checkpoint.Path, "--data", data, "--db", _work.Combine("ts.db"), "--query", "dalmatian", "--image", "dog.jpg", "--top", "2"]);

        var (code, output) = await RunAsync(options);

        Assert.Equal(0, code);
        Assert.Contains("torchsharp-cpu", output, StringComparison.Ordinal);
        Assert.Contains("Ingested 4 new item(s)", output, StringComparison.Ordinal);
        Assert.Equal(4, output.Split('\n').Count(l => l.Contains("[memory:", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Without_a_model_it_says_what_to_pass()
    {
        var saved = Environment.GetEnvironmentVariable(MemoryAppOptions.DefaultModelVariable);
        Environment.SetEnvironmentVariable(MemoryAppOptions.DefaultModelVariable, null);
        try
        {
            var (code, output) = await RunAsync(new MemoryAppOptions());
            Assert.Equal(2, code);
            Assert.Contains("--model", output, StringComparison.Ordinal);
            Assert.Contains(MemoryAppOptions.DefaultModelVariable, output, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(MemoryAppOptions.DefaultModelVariable, saved);
        }

        Assert.Throws<ArgumentException>(() => MemoryAppOptions.Parse(["--nope"]));
    }
}
