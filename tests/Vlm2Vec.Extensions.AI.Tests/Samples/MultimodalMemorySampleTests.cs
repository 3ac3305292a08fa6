using Microsoft.Extensions.AI;
using MultimodalMemory;
using Vlm2Vec.Extensions.AI.Tests.Embeddings;
using Vlm2Vec.Extensions.AI.Tests.Support;
using Vlm2Vec.OnnxRuntime;
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
    public async Task With_no_arguments_it_ingests_the_shipped_images_and_answers_the_default_queries_with_the_shipped_model()
    {
        var (code, output) = await WithoutModelVariableAsync(() => RunAsync(MemoryAppOptions.Parse(["--db", _work.Combine("default.db")])));

        Assert.Equal(0, code);
        Assert.Contains("onnxruntime", output, StringComparison.Ordinal);
        Assert.Contains("shipped demo model", output, StringComparison.Ordinal);
        Assert.Contains("Demo prompts:", output, StringComparison.Ordinal);
        Assert.Contains($"Ingested 50 new item(s) from {MemoryApp.ShippedDataFolder}", output, StringComparison.Ordinal);

        // The default text queries are captions of a class: the first hit is an image of that class.
        Assert.Equal("sneaker-", FirstHitClass(output, "Question: a photo of a sneaker"));
        Assert.Equal("trouser-", FirstHitClass(output, "Question: a photo of trousers"));
        Assert.Equal("bag-", FirstHitClass(output, "Question: a photo of a bag"));

        // The default image query is embedded as stored images are: itself first, then other ankle boots.
        var lines = output.Split('\n');
        var image = Array.FindIndex(lines, l => l.StartsWith("Image: " + DemoPrompts.DefaultImageQuery, StringComparison.Ordinal));
        Assert.True(image >= 0, output);
        Assert.Contains(Path.Combine(MemoryApp.ShippedDataFolder, DemoPrompts.DefaultImageQuery), lines[image + 1], StringComparison.Ordinal);
        Assert.Contains("[memory:", lines[image + 1], StringComparison.Ordinal);
        Assert.Contains(Path.Combine(MemoryApp.ShippedDataFolder, "ankle-boot-"), lines[image + 2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_shipped_model_finds_an_image_of_each_class_first_for_a_caption_of_that_class()
    {
        // Captions in the phrasing the demo model was evaluated with ("a photo of" + the first name of the class).
        (string Caption, string File)[] classes =
        [
            ("a photo of a t-shirt", "tshirt-"), ("a photo of trousers", "trouser-"), ("a photo of a pullover", "pullover-"),
            ("a photo of a dress", "dress-"), ("a photo of a coat", "coat-"), ("a photo of a sandal", "sandal-"),
            ("a photo of a shirt", "shirt-"), ("a photo of a sneaker", "sneaker-"), ("a photo of a bag", "bag-"),
            ("a photo of an ankle boot", "ankle-boot-"),
        ];
        var args = new List<string> { "--db", _work.Combine("classes.db"), "--top", "1" };
        foreach (var (caption, _) in classes)
        {
            args.Add("--query");
            args.Add(caption);
        }

        var (code, output) = await WithoutModelVariableAsync(() => RunAsync(MemoryAppOptions.Parse(args)));

        Assert.Equal(0, code);
        foreach (var (caption, file) in classes)
        {
            Assert.Equal(file, FirstHitClass(output, "Question: " + caption));
        }
    }

    [Fact]
    public async Task Demo_prompts_embed_exactly_as_the_strings_the_demo_model_was_trained_with()
    {
        var options = new Vlm2VecEmbeddingGeneratorOptions();
        DemoPrompts.Apply(options);
        using var encoder = new OnnxRuntimeEncoderFactory().Create(new Vlm2VecEncoderOptions { ModelPath = MemoryApp.ShippedModelFolder });
        using var generator = new Vlm2VecEmbeddingGenerator(encoder, options);
        var imagePath = Path.Combine(MemoryApp.ShippedDataFolder, "sneaker-1.png");
        var imageBytes = await File.ReadAllBytesAsync(imagePath);

        var viaGenerator = await generator.GenerateAsync(
        [
            new Vlm2VecContent([new TextContent("a photo of a sneaker")]) { Role = EmbeddingRole.Query },
            new Vlm2VecContent([new DataContent(imageBytes, "image/png")]) { Role = EmbeddingRole.Target },
            new Vlm2VecContent([new DataContent(imageBytes, "image/png")]) { Role = EmbeddingRole.Query },
        ]);
        var trained = await generator.Embedder.EmbedAsync(
        [
            new MultimodalInput { Prompt = "Find me an everyday image that matches the given caption: a photo of a sneaker\n" },
            new MultimodalInput { Prompt = "<|image_1|>\nRepresent the given image.\n", Images = [ImageInput.FromBytes(imageBytes)] },
        ]);

        Assert.Equal(trained[0], viaGenerator[0].Vector.ToArray());
        Assert.Equal(trained[1], viaGenerator[1].Vector.ToArray());
        Assert.Equal(trained[1], viaGenerator[2].Vector.ToArray()); // an image query is embedded as a stored image
    }

    [Fact]
    public void Options_parse_the_demo_prompt_switches_and_reject_unknown_ones()
    {
        Assert.Null(MemoryAppOptions.Parse([]).DemoPrompts);
        Assert.True(MemoryAppOptions.Parse(["--demo-prompts"]).DemoPrompts);
        Assert.False(MemoryAppOptions.Parse(["--no-demo-prompts"]).DemoPrompts);
        Assert.Throws<ArgumentException>(() => MemoryAppOptions.Parse(["--nope"]));
    }

    /// <summary>The file-name class prefix (<c>sneaker-</c>) of the first hit after the line <paramref name="header"/>.</summary>
    private static string FirstHitClass(string output, string header)
    {
        var lines = output.Split('\n');
        var at = Array.FindIndex(lines, l => l.TrimEnd('\r') == header);
        Assert.True(at >= 0 && at + 1 < lines.Length, $"'{header}' is not in the output:\n{output}");
        var hit = lines[at + 1];
        Assert.Contains("[memory:", hit, StringComparison.Ordinal);
        var file = Path.GetFileName(hit.TrimEnd('\r').Split(' ', StringSplitOptions.RemoveEmptyEntries)[3]);
        return file[..(file.LastIndexOf('-') + 1)];
    }

    private static async Task<T> WithoutModelVariableAsync<T>(Func<Task<T>> run)
    {
        var saved = Environment.GetEnvironmentVariable(MemoryAppOptions.DefaultModelVariable);
        Environment.SetEnvironmentVariable(MemoryAppOptions.DefaultModelVariable, null);
        try
        {
            return await run();
        }
        finally
        {
            Environment.SetEnvironmentVariable(MemoryAppOptions.DefaultModelVariable, saved);
        }
    }
}
