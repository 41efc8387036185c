using TorchSharp;
using Xunit;

namespace Diffuse.Tests;

public class TorchLoadsTests
{
    [Fact]
    public void TorchLoadsAndReproducesPyTorchsGenerator()
    {
        using var g = new torch.Generator(0);
        using var x = torch.randn(new long[] { 3 }, generator: g);
        var v = x.data<float>().ToArray();
        Assert.Equal(1.5410, v[0], 3);
        Assert.Equal(-0.2934, v[1], 3);
        Assert.Equal(-2.1788, v[2], 3);
        using var m = torch.ones(2, 2).matmul(torch.ones(2, 2));
        Assert.Equal(8f, m.sum().item<float>());
    }
}
