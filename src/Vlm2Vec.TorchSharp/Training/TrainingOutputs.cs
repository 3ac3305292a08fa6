using System.Text.Json;
using System.Text.Json.Nodes;
using Vlm2Vec.Preprocessing;
using Vlm2Vec.TorchSharp.Checkpoints;
using Vlm2Vec.TorchSharp.Modeling;
using Vlm2Vec.TorchSharp.Peft;

namespace Vlm2Vec.TorchSharp.Training;

/// <summary>
/// The final outputs of a run, each written into a temporary folder and renamed into place: the PEFT adapter
/// (<c>adapter/</c>) and/or a full Hugging Face model folder (<c>model/</c>) that carries the tokenizer and the
/// image-processor config the run used (pixel-budget overrides written in), so it loads with
/// <see cref="TorchSharpVlm2VecEncoder.FromPretrained"/> and prepares inputs exactly as training did.
/// </summary>
internal static class TrainingOutputs
{
    public const string AdapterFolderName = "adapter";
    public const string ModelFolderName = "model";

    /// <summary>Tokenizer and processor files copied beside the weights when present.</summary>
    private static readonly string[] PreprocessingFiles =
    [
        "tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt", "special_tokens_map.json", "added_tokens.json", "chat_template.json",
    ];

    public static string WriteAdapter(string outputFolder, Qwen2VlForConditionalGeneration model, LoraConfig config) =>
        WriteAtomically(outputFolder, AdapterFolderName, folder =>
        {
            using var adapter = LoraInjector.ExtractAdapter(model, config);
            adapter.Save(folder);
        });

    public static string WriteModel(string outputFolder, Qwen2VlForConditionalGeneration model, string preprocessingFolder, PreprocessorOptions preprocessing) =>
        WriteAtomically(outputFolder, ModelFolderName, folder =>
        {
            model.SavePretrained(folder);
            CopyPreprocessing(preprocessingFolder, folder, preprocessing);
        });

    /// <summary>Copies the tokenizer files and writes <c>preprocessor_config.json</c> with the effective pixel budget.</summary>
    public static void CopyPreprocessing(string sourceFolder, string destinationFolder, PreprocessorOptions preprocessing)
    {
        foreach (var name in PreprocessingFiles)
        {
            var source = Path.Combine(sourceFolder, name);
            if (File.Exists(source))
            {
                File.Copy(source, Path.Combine(destinationFolder, name), overwrite: true);
            }
        }

        var processorPath = Path.Combine(sourceFolder, ImageProcessorConfig.FileName);
        var processor = JsonNode.Parse(File.ReadAllText(processorPath))?.AsObject()
            ?? throw new ModelFormatException($"'{processorPath}' is not a JSON object.");
        var overrides = preprocessing.ImageProcessor;
        if (overrides.MinPixels is { } min)
        {
            SetPixels(processor, "min_pixels", "shortest_edge", min);
        }

        if (overrides.MaxPixels is { } max)
        {
            SetPixels(processor, "max_pixels", "longest_edge", max);
        }

        CheckpointWriter.WriteTextAtomically(
            Path.Combine(destinationFolder, ImageProcessorConfig.FileName), processor.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static void SetPixels(JsonObject processor, string flatKey, string sizeKey, long value)
    {
        processor[flatKey] = value;
        if (processor["size"] is JsonObject size)
        {
            size[sizeKey] = value;
            size.Remove(flatKey);
        }
    }

    private static string WriteAtomically(string outputFolder, string name, Action<string> write)
    {
        var final = Path.Combine(outputFolder, name);
        var temporary = Path.Combine(outputFolder, $".tmp-{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temporary);
        try
        {
            write(temporary);
            if (Directory.Exists(final))
            {
                Directory.Delete(final, recursive: true);
            }

            Directory.Move(temporary, final);
            return final;
        }
        catch
        {
            try
            {
                Directory.Delete(temporary, recursive: true);
            }
            catch (IOException)
            {
            }

            throw;
        }
    }
}
