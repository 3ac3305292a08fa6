namespace Vlm2Vec.TorchSharp;

/// <summary>
/// Frees the native objects TorchSharp 0.107 leaves to the finalizer. Many of its calls create one and never dispose it:
/// the <c>Scalar</c> behind <c>t.add(u)</c> (alpha 1) or <c>t.mul(2.0)</c> (the trainer's AdamW step disposes its own, see
/// <see cref="Training.ScalarDisposing.AdamW"/>) — about 110 per
/// chunk forward and backward of the training benchmark's model. Until a collection finds
/// them dead, their small native blocks sit between a chunk's large buffers in glibc's heap, which then cannot merge the
/// free space around them: when nothing else allocates managed memory (GradCache's second pass with reused image
/// features) no collection comes, and the heap grew by about 100 MiB at batch 256 (peak RSS 1.3× batch 8's instead of
/// 1.15–1.2×, docs/training.md). A generation-0 collection and the finalizers after each chunk of that pass free them
/// (the pass allocates little managed memory, so the collection is cheap; the first pass prepares images and collects
/// by itself). Collections started here never run inside a libtorch call of this thread (the TorchSharp race described
/// at <see cref="Training.ContrastiveTrainingOptions.OverlapPreprocessing"/>).
/// </summary>
internal static class FinalizerOwnedNativeMemory
{
    public static void Release()
    {
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        GC.WaitForPendingFinalizers();
    }
}
