using static TorchSharp.torch;

namespace Diffuse.Data;

/// <summary>
/// A batch drawn from an <see cref="ImageDataset"/>: float32 images [B, C, H, W] in [-1, 1] and
/// int64 labels [B] (-1 where the dataset is unlabelled). The batch owns both tensors.
/// </summary>
public sealed record ImageBatch(Tensor Images, Tensor Labels) : IDisposable
{
    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
