using Diffuse.Data;
using Diffuse.Tests.IO;
using Xunit;

namespace Diffuse.Tests.Data;

public class IdxFolderTests
{
    [Fact]
    public void AnIdxFolderLoadsTrainThenTestImagesWithLabelsScaledToMinusOneOne()
    {
        using var folder = new TempFolder();
        SyntheticImages.WriteIdxPair(folder.Path, "train", 6, 4, 5, classes: 3);
        SyntheticImages.WriteIdxPair(folder.Path, "t10k", 2, 4, 5, classes: 3);

        using var data = ImageDatasets.Load(folder.Path, new ImageLoadOptions());
        Assert.Equal((8L, 1, 4, 5), (data.Count, data.Channels, data.Height, data.Width));
        Assert.Equal(new[] { "0", "1", "2" }, data.ClassNames);
        Assert.Equal(new long[] { 0, 1, 2, 0, 1, 2, 0, 1 }, data.Labels.data<long>().ToArray());

        using var batch = data.Batch([0, 5, 255 % 8]);
        var values = batch.Images.data<float>().ToArray();
        Assert.Equal(-1f, values[0]);
        Assert.Equal(5 / 127.5f - 1, values[20], 5);
        Assert.Equal(new long[] { 0, 2, 1 }, batch.Labels.data<long>().ToArray());
    }

    [Fact]
    public void ImageSizeChannelsAndMaxImagesApplyToIdx()
    {
        using var folder = new TempFolder();
        SyntheticImages.WriteIdxPair(folder.Path, "train", 10, 28, 28, classes: 10);
        using var data = ImageDatasets.Load(folder.Path, new ImageLoadOptions { ImageSize = 32, Channels = 3, MaxImages = 5 });
        Assert.Equal((5L, 3, 32, 32), (data.Count, data.Channels, data.Height, data.Width));
        Assert.Equal(new long[] { 0, 2, 4, 6, 8 }, data.Labels.data<long>().ToArray());
        // A constant image stays constant through the resize (image 2 has every pixel 2).
        Assert.All(data.Pixels[1].data<byte>().ToArray(), v => Assert.Equal(2, v));
    }

    [Fact]
    public void NonSquareImagesAreCentreCropped()
    {
        using var folder = new TempFolder();
        // One 4x8 image: columns 0-3 are 0, columns 4-7 are 200; the square crop keeps columns 2-5.
        var row = new byte[] { 0, 0, 0, 0, 200, 200, 200, 200 };
        Diffuse.IO.IdxFile.WriteFile(folder.File("train-images-idx3-ubyte"), [1, 4, 8], Enumerable.Repeat(row, 4).SelectMany(r => r).ToArray());
        Diffuse.IO.IdxFile.WriteFile(folder.File("train-labels-idx1-ubyte"), [1], [0]);
        using var data = ImageDatasets.Load(folder.Path, new ImageLoadOptions { ImageSize = 4 });
        Assert.Equal(new byte[] { 0, 0, 200, 200 }, data.Pixels[0, 0, 1].data<byte>().ToArray());
    }

    [Fact]
    public void ATruncatedImageFileIsAnErrorNamingIt()
    {
        using var folder = new TempFolder();
        SyntheticImages.WriteIdxPair(folder.Path, "train", 4, 28, 28, classes: 2);
        var images = folder.File("train-images-idx3-ubyte");
        File.WriteAllBytes(images, File.ReadAllBytes(images)[..1000]);
        var e = Assert.Throws<DiffuseException>(() => ImageDatasets.Load(folder.Path, new ImageLoadOptions()));
        Assert.Contains("train-images-idx3-ubyte", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void MismatchedImageAndLabelCountsAreAnError()
    {
        using var folder = new TempFolder();
        SyntheticImages.WriteIdxPair(folder.Path, "train", 4, 28, 28, classes: 2);
        Diffuse.IO.IdxFile.WriteFile(folder.File("train-labels-idx1-ubyte"), [3], new byte[3]);
        var e = Assert.Throws<DiffuseException>(() => ImageDatasets.Load(folder.Path, new ImageLoadOptions()));
        Assert.Contains("4 images", e.Message);
        Assert.Contains("3 labels", e.Message);
    }

    [Fact]
    public void AnUnknownSourceListsTheNamesAndMentionsFolders()
    {
        var e = Assert.Throws<DiffuseException>(() => ImageDatasets.Load("cifar-1000", new ImageLoadOptions()));
        Assert.Contains("mnist, fashion-mnist", e.Message);
        Assert.Contains("folder", e.Message);
    }
}
