namespace Vlm2Vec.TorchSharp.Export;

/// <summary>What an export is doing (see <see cref="Vlm2VecExportProgress"/>).</summary>
public enum Vlm2VecExportStage
{
    /// <summary>Checking the checkpoint, adapter, tokenizer and target before anything is written.</summary>
    Validating,

    /// <summary>Reading the checkpoint (and merging the adapter).</summary>
    LoadingWeights,

    /// <summary>Writing the vision graph and its weights.</summary>
    WritingVisionGraph,

    /// <summary>Writing the text graph and its weights.</summary>
    WritingTextGraph,

    /// <summary>Copying the tokenizer, processor and model configs.</summary>
    CopyingFiles,

    /// <summary>Computing file digests and writing the manifest.</summary>
    WritingManifest,

    /// <summary>Checking the finished bundle and moving it into place.</summary>
    Finishing,
}
