using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Vlm2Vec.TestSupport;
using Vlm2Vec.TorchSharp;
using Vlm2Vec.TorchSharp.Modeling;

namespace Vlm2Vec.Cli.Tests;

/// <summary><c>vlm2vec serve</c>: usage and model errors, and end to end on a tiny real Qwen2-VL model.</summary>
public sealed class ServeCommandTests
{
    [Fact]
    public async Task Serve_without_a_model_is_a_usage_error()
    {
        var result = await CliHarness.RunAsync(["serve"]);
        Assert.Equal(ExitCodes.UsageError, result.ExitCode);
        Assert.Contains("--model", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unset_api_key_variable_and_an_https_url_are_usage_errors()
    {
        using var folder = new TempFolder();
        var unset = await CliHarness.RunAsync(["serve", "--model", folder.Path, "--api-key-env", "VLM2VEC_TEST_UNSET"]);
        Assert.Equal(ExitCodes.UsageError, unset.ExitCode);
        Assert.Contains("VLM2VEC_TEST_UNSET", unset.Error, StringComparison.Ordinal);

        var https = await CliHarness.RunAsync(["serve", "--model", folder.Path, "--urls", "https://127.0.0.1:0"]);
        Assert.Equal(ExitCodes.UsageError, https.ExitCode);
        Assert.Contains("reverse proxy", https.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_or_empty_model_folder_is_a_model_error()
    {
        using var folder = new TempFolder();
        var missing = await CliHarness.RunAsync(["serve", "--model", folder.Combine("nope"), "--urls", "http://127.0.0.1:0"]);
        Assert.Equal(ExitCodes.ModelError, missing.ExitCode);
        Assert.Contains("does not exist", missing.Error, StringComparison.Ordinal);

        var empty = await CliHarness.RunAsync(["serve", "--model", folder.Path, "--urls", "http://127.0.0.1:0"]);
        Assert.Equal(ExitCodes.ModelError, empty.ExitCode);
        Assert.Contains("not a model folder", empty.Error, StringComparison.Ordinal);
        Assert.Equal(string.Empty, empty.Out);
    }

    [Fact]
    public async Task Serve_embeds_text_and_images_with_a_tiny_real_model_and_stops_on_ctrl_c()
    {
        TorchSharpRuntime.EnsureLoaded();
        using var folder = new TempFolder();
        TinyModel.Write(folder.Path);
        using var offline = TorchSharpVlm2VecEncoder.FromPretrained(folder.Path);
        using var stop = new CancellationTokenSource();
        var stdout = new StringWriter();
        var environment = new Dictionary<string, string> { ["VLM2VEC_TEST_KEYS"] = "sk-tiny-0123456789, sk-tiny-second-key" };
        var run = CliHarness.RunAsync(
            ["serve", "--model", folder.Path, "--urls", "http://127.0.0.1:0", "--api-key-env", "VLM2VEC_TEST_KEYS", "--model-name", "tiny", "--max-wait-ms", "5"],
            environment,
            cancellationToken: stop.Token,
            stdout: stdout);

        var address = await WaitForAddressAsync(stdout, run);
        using var http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(60) };
        var image = Convert.ToBase64String(File.ReadAllBytes(SharedData.Path("images", "robustness", "hopper.png")));
        var body = JsonSerializer.Serialize(new
        {
            model = "tiny",
            input = new object[] { "A cat sitting on a red sofa.", new { image = "data:image/png;base64," + image, instruction = "Represent the given image." } },
        });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/embeddings") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "sk-tiny-second-key");
        using var response = await http.SendAsync(request);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(200, (int)response.StatusCode);
        MultimodalInput[] inputs =
        [
            MultimodalInput.FromText("A cat sitting on a red sofa."),
            MultimodalInput.FromImage(ImageInput.FromBytes(Convert.FromBase64String(image)), "Represent the given image."),
        ];
        var data = json.GetProperty("data").EnumerateArray().ToList();
        for (var i = 0; i < inputs.Length; i++)
        {
            var served = data[i].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            var expected = (await offline.EncodeAsync(offline.Preprocessor.Collate([offline.Preprocessor.Prepare(inputs[i])])))[0];
            Assert.Equal(TinyModel.Hidden, served.Length);
            Assert.True(Cosine(served, expected) > 0.99999, $"input {i}: cosine {Cosine(served, expected)}");
        }

        Assert.Equal(
            inputs.Sum(input => offline.Preprocessor.Prepare(input).Length),
            json.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        using var unauthorized = await http.PostAsync("/v1/embeddings", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(401, (int)unauthorized.StatusCode);

        await stop.CancelAsync();
        var result = await run.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(ExitCodes.Success, result.ExitCode);
        Assert.Contains("Serving 'tiny'", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_runs_a_model_bundle_on_the_onnx_runtime_engine()
    {
        var bundle = Search.DemoAssets.RequireModel();
        using var offline = Vlm2Vec.OnnxRuntime.OnnxVlm2VecEncoder.FromBundle(bundle);
        using var stop = new CancellationTokenSource();
        var stdout = new StringWriter();
        var run = CliHarness.RunAsync(["serve", "--model", bundle, "--urls", "http://127.0.0.1:0", "--model-name", "demo"], cancellationToken: stop.Token, stdout: stdout);

        var address = await WaitForAddressAsync(stdout, run);
        using var http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(60) };
        var health = JsonDocument.Parse(await http.GetStringAsync("/health")).RootElement;
        Assert.Equal("onnxruntime-cpu", health.GetProperty("engine").GetString());
        var body = JsonSerializer.Serialize(new { model = "demo", input = new[] { "Sneaker", "a photo of a bag" } });
        using var response = await http.PostAsync("/v1/embeddings", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(200, (int)response.StatusCode);
        var data = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("data").EnumerateArray().ToList();
        var expected = await offline.EncodeAsync(offline.Preprocessor.Collate([offline.Preprocessor.Prepare(MultimodalInput.FromText("Sneaker"))]));
        var served = data[0].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.Equal(offline.Info.Dimension, served.Length);
        Assert.True(Cosine(served, expected[0]) > 0.99999, $"cosine {Cosine(served, expected[0])}");

        await stop.CancelAsync();
        var result = await run.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(ExitCodes.Success, result.ExitCode);
    }

    private static async Task<string> WaitForAddressAsync(StringWriter stdout, Task<CliRunResult> run)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            if (run.IsCompleted)
            {
                var result = await run;
                Assert.Fail($"serve ended early with {result.ExitCode}: {result.Error}");
            }

            var line = stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
            if (line is not null)
            {
                Assert.StartsWith("http://127.0.0.1:", line, StringComparison.Ordinal);
                return line;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("serve printed no address within 120 s.");
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }

        return dot / Math.Sqrt(na * nb);
    }

    /// <summary>A tiny random Qwen2-VL with Qwen's special ids and vocabulary, beside the real tokenizer files (shared/data).</summary>
    internal static class TinyModel
    {
        public const int Hidden = 32;

        public static void Write(string folder)
        {
            var config = Qwen2VlConfig.Parse(
                """
                {
                  "architectures": ["Qwen2VLForConditionalGeneration"], "model_type": "qwen2_vl", "vocab_size": 151936,
                  "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
                  "hidden_act": "silu", "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "rope_scaling": {"type": "mrope", "mrope_section": [2, 1, 1]},
                  "max_position_embeddings": 32768, "tie_word_embeddings": true, "attention_dropout": 0.0,
                  "bos_token_id": 151643, "eos_token_id": 151645, "vision_start_token_id": 151652, "vision_end_token_id": 151653,
                  "vision_token_id": 151654, "image_token_id": 151655, "video_token_id": 151656, "torch_dtype": "float32",
                  "vision_config": {"depth": 1, "embed_dim": 16, "hidden_size": 32, "num_heads": 2, "mlp_ratio": 2, "in_chans": 3,
                                    "spatial_patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2}
                }
                """);
            using (var model = Qwen2VlForConditionalGeneration.CreateRandom(config, new Qwen2VlRandomInitOptions { Seed = 7, InitializerRange = 0.2 }))
            {
                model.SavePretrained(folder);
            }

            foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json", "preprocessor_config.json", "vocab.json", "merges.txt" })
            {
                File.Copy(SharedData.Path("tokenizer", "qwen2-vl", file), Path.Combine(folder, file));
            }
        }
    }
}
