using Diffuse.IO;
using SkiaSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.IO;

public class ImageGridTests
{
    [Fact]
    public void AGridIsADecodablePngOfTheExpectedSizeAndPixels()
    {
        // Five 4x6 RGB images: image k is pure red for k = 0, else black; 3 columns, padding 2.
        using var images = full(new long[] { 5, 3, 4, 6 }, -1f);
        images[0, 0] = tensor(1f);
        var png = ImageGrid.EncodePng(images, columns: 3, padding: 2);

        using var bitmap = SKBitmap.Decode(png);
        Assert.NotNull(bitmap);
        Assert.Equal(3 * (6 + 2) + 2, bitmap.Width);
        Assert.Equal(2 * (4 + 2) + 2, bitmap.Height);
        Assert.Equal(new SKColor(255, 0, 0), bitmap.GetPixel(2, 2));
        Assert.Equal(new SKColor(0, 0, 0), bitmap.GetPixel(2 + 8, 2));
    }

    [Fact]
    public void GrayImagesDefaultToASquareishGridAndMapMinusOneToBlackAndOneToWhite()
    {
        using var images = cat([full(new long[] { 1, 1, 5, 5 }, 1f), full(new long[] { 3, 1, 5, 5 }, 0f)], 0);
        var png = ImageGrid.EncodePng(images, padding: 0);
        using var bitmap = SKBitmap.Decode(png);
        Assert.Equal((10, 10), (bitmap.Width, bitmap.Height));
        Assert.Equal(new SKColor(255, 255, 255), bitmap.GetPixel(0, 0));
        Assert.Equal(new SKColor(128, 128, 128), bitmap.GetPixel(9, 9));
    }

    [Fact]
    public void WritePngAndWriteEachWriteFiles()
    {
        using var folder = new TempFolder();
        using var images = rand(new long[] { 3, 3, 8, 8 }) * 2 - 1;
        var grid = folder.File("grid.png");
        ImageGrid.WritePng(grid, images, columns: 1, padding: 1);
        using (var bitmap = SKBitmap.Decode(grid)) Assert.Equal((10, 28), (bitmap.Width, bitmap.Height));

        var paths = ImageGrid.WriteEach(folder.File("each"), images, startIndex: 7);
        Assert.Equal(new[] { "000007.png", "000008.png", "000009.png" }, paths.Select(Path.GetFileName));
        using var one = SKBitmap.Decode(paths[0]);
        Assert.Equal((8, 8), (one.Width, one.Height));
    }
}
