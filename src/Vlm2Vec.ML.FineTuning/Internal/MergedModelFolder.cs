using Vlm2Vec.TorchSharp.Modeling;

namespace Vlm2Vec.ML;

/// <summary>
/// Writes the base model with a trained LoRA/DoRA adapter merged in as a Hugging Face folder beside the run's outputs,
/// with the base folder's tokenizer and image-processor files: the folder the returned embedding transformer opens
/// (and records in a saved pipeline). Written into a temporary folder and renamed into place.
/// </summary>
/// <remarks>
/// The trainer can write this folder itself (<c>ContrastiveTrainingOptions.MergeAdapter</c>), but in the current
/// trainer a merged run fails right after writing it (its result reads the unloaded adapter parameters), so the
/// estimator asks it for the adapter only and merges here, through the same loader serving uses.
/// </remarks>
internal static class MergedModelFolder
{
    public const string FolderName = "ml-model";

    private static readonly string[] PreprocessingFiles =
    [
        "tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt", "special_tokens_map.json", "added_tokens.json",
        "chat_template.json", "preprocessor_config.json",
    ];

    public static string Write(string baseFolder, string adapterFolder, string outputFolder)
    {
        var destination = Path.Combine(outputFolder, FolderName);
        var temporary = destination + ".tmp";
        if (Directory.Exists(temporary))
        {
            Directory.Delete(temporary, recursive: true);
        }

        Directory.CreateDirectory(temporary);
        using (var model = Qwen2VlForConditionalGeneration.FromPretrained(baseFolder, new Qwen2VlLoadOptions { AdapterPath = adapterFolder, MergeAdapter = true }))
        {
            model.SavePretrained(temporary);
        }

        foreach (var name in PreprocessingFiles)
        {
            var source = Path.Combine(baseFolder, name);
            if (File.Exists(source))
            {
                File.Copy(source, Path.Combine(temporary, name), overwrite: true);
            }
        }

        if (Directory.Exists(destination))
        {
            Directory.Delete(destination, recursive: true);
        }

        Directory.Move(temporary, destination);
        return destination;
    }
}
