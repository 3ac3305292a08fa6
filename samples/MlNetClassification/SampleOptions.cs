using System.Globalization;

namespace MlNetClassification;

/// <summary>The sample's command line.</summary>
internal sealed class SampleOptions
{
    public const string DebianFashionMnist = "/usr/share/datasets/fashion-mnist";

    /// <summary>The folder beside the app holding the shipped demo model (a copy of <c>models/fashion-demo</c>).</summary>
    public static string ShippedModelFolder => Path.Combine(AppContext.BaseDirectory, "demo-model");

    /// <summary>The model folder: <c>--model</c>, else the shipped demo bundle (null with <c>--demo-model</c>).</summary>
    public string? ModelFolder { get; private set; }

    /// <summary>Whether <see cref="ModelFolder"/> is the shipped demo bundle (no <c>--model</c> or <c>--demo-model</c> given).</summary>
    public bool UsesShippedModel { get; private set; }

    public string? DemoModelTokenizerFolder { get; private set; }

    public string? FashionMnistFolder { get; private set; }

    public string? Caltech101Folder { get; private set; }

    public int TrainCount { get; private set; } = 1000;

    public int TestCount { get; private set; } = 500;

    public int Seed { get; private set; } = 7;

    public int? Threads { get; private set; }

    public bool FineTune { get; private set; }

    public int FineTuneSteps { get; private set; } = 60;

    public double LearningRate { get; private set; } = 1e-3;

    public bool FullFineTuning { get; private set; }

    public string? RunFolder { get; private set; }

    public static string Usage => """
        Image classification with Vlm2Vec embeddings and ML.NET's SdcaMaximumEntropy.

        Usage: MlNetClassification [--model <folder> | --demo-model <tokenizer folder>] [data] [options]

        Model (default: the shipped demo model, an ONNX bundle of a tiny Qwen2-VL trained on Fashion-MNIST only):
          --model <folder>          a Vlm2Vec model: a model bundle (vlm2vec.json, opened with ONNX Runtime) or a
                                    Hugging Face Qwen2-VL checkpoint folder (config.json + safetensors, TorchSharp)
          --demo-model <folder>     build a tiny random Qwen2-VL checkpoint beside the Qwen2-VL tokenizer files in <folder>
                                    (tokenizer.json, tokenizer_config.json, preprocessor_config.json; models/fashion-demo
                                    has them); no real weights needed
        Data (one of; default: Fashion-MNIST from the Debian package dataset-fashion-mnist):
          --fashion-mnist <folder>  folder with train-/t10k-images-idx3-ubyte.gz and -labels-idx1-ubyte.gz
                                    (default /usr/share/datasets/fashion-mnist)
          --caltech101 <folder>     Caltech-101 images as <folder>/<class>/*.jpg (or <folder>/images/<class>/*.jpg)
        Options:
          --train <n>               training images (default 1000)
          --test <n>                held-out test images (default 500)
          --seed <n>                sampling and trainer seed (default 7)
          --threads <n>             libtorch CPU threads (default: libtorch's)
        Fine-tuning (runs the same pipeline a second time with FineTuneVlm2Vec in front, and prints both accuracies;
        it trains a Hugging Face checkpoint with TorchSharp, so it needs --demo-model or --model <checkpoint folder>):
          --fine-tune               train the model contrastively on the training split (image -> its class name)
          --steps <n>               optimiser steps (default 60; batch 32)
          --learning-rate <x>       peak learning rate (default 1e-3)
          --full                    full fine-tuning instead of LoRA/DoRA (VLM2Vec-V2.0's adapter)
          --run-folder <folder>     where checkpoints and the fine-tuned model go (default: a new temp folder)
        """;

    public static SampleOptions Parse(string[] args)
    {
        var options = new SampleOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            int Count() => int.Parse(Value(), CultureInfo.InvariantCulture) is var n && n > 0 ? n : throw new ArgumentException($"{args[i]} must be positive.");
            switch (args[i])
            {
                case "--model": options.ModelFolder = Value(); break;
                case "--demo-model": options.DemoModelTokenizerFolder = Value(); break;
                case "--fashion-mnist": options.FashionMnistFolder = Value(); break;
                case "--caltech101": options.Caltech101Folder = Value(); break;
                case "--train": options.TrainCount = Count(); break;
                case "--test": options.TestCount = Count(); break;
                case "--seed": options.Seed = Count(); break;
                case "--threads": options.Threads = Count(); break;
                case "--fine-tune": options.FineTune = true; break;
                case "--steps": options.FineTuneSteps = Count(); break;
                case "--learning-rate": options.LearningRate = double.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--full": options.FullFineTuning = true; break;
                case "--run-folder": options.RunFolder = Value(); break;
                case "-h" or "--help": throw new ArgumentException(string.Empty);
                default: throw new ArgumentException($"Unknown argument '{args[i]}'.");
            }
        }

        if (options.ModelFolder is not null && options.DemoModelTokenizerFolder is not null)
        {
            throw new ArgumentException("Give one model: --model <folder> or --demo-model <tokenizer folder>.");
        }

        if (options.ModelFolder is null && options.DemoModelTokenizerFolder is null)
        {
            options.ModelFolder = ShippedModelFolder;
            options.UsesShippedModel = true;
        }

        if (options.FineTune && options.ModelFolder is { } model && File.Exists(Path.Combine(model, "vlm2vec.json")))
        {
            throw new ArgumentException(
                $"--fine-tune trains a Hugging Face checkpoint with TorchSharp, and '{model}' is an ONNX model bundle (vlm2vec.json){(options.UsesShippedModel ? " (the shipped demo model)" : string.Empty)}, " +
                "which can embed but not be trained. Fine-tune with --demo-model <tokenizer folder> (e.g. models/fashion-demo, for its tokenizer files) " +
                "or --model <Hugging Face checkpoint folder>.");
        }

        if (options.FashionMnistFolder is not null && options.Caltech101Folder is not null)
        {
            throw new ArgumentException("Give one data set: --fashion-mnist or --caltech101.");
        }

        if (options.Caltech101Folder is null)
        {
            options.FashionMnistFolder ??= DebianFashionMnist;
        }

        return options;
    }
}
