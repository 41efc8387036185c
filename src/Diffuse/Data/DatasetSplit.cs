namespace Diffuse.Data;

/// <summary>The two disjoint parts of <see cref="ImageDataset.Split"/>; disposing it disposes both.</summary>
public sealed record DatasetSplit(ImageDataset Train, ImageDataset Validation) : IDisposable
{
    public void Dispose()
    {
        Train.Dispose();
        Validation.Dispose();
    }
}
