function [dX, dW, dB] = tconv_ref_backward(X, W, dY, stride, dilation, crop)
% TCONV_REF_BACKWARD  The gradients of tconv_ref as plain loops (not
% tconv): dY is placed back into the uncropped output, then every
% (input pixel, tap) pair that tconv_ref scatters is run backwards:
% dX += w' * dYf, dW += dYf * x'. dB sums dY over everything but channels.
  [dYf, t, l, outH, outW] = tconv_ref_geometry(X, W, stride, dilation, crop);
  dYf(t + (1:outH), l + (1:outW), :, :) = double(dY);
  X = double(X);
  W = double(W);
  [H, Wd, C, N] = size(X);
  [kh, kw, Fg, Cg, G] = size(W);
  dX = zeros(H, Wd, C, N);
  dW = zeros(kh, kw, Fg, Cg, G);
  for n = 1:N
    for g = 1:G
      cs = (g - 1) * Cg + (1:Cg);
      fs = (g - 1) * Fg + (1:Fg);
      for ih = 1:H
        for iw = 1:Wd
          x = reshape(X(ih, iw, cs, n), Cg, 1);
          dx = zeros(Cg, 1);
          for i = 1:kh
            oh = (ih - 1) * stride(1) + (i - 1) * dilation(1) + 1;
            for j = 1:kw
              ow = (iw - 1) * stride(2) + (j - 1) * dilation(2) + 1;
              dy = reshape(dYf(oh, ow, fs, n), Fg, 1);
              dx = dx + reshape(W(i, j, :, :, g), Fg, Cg)' * dy;
              dW(i, j, :, :, g) = dW(i, j, :, :, g) + reshape(dy * x', 1, 1, Fg, Cg);
            end
          end
          dX(ih, iw, cs, n) = reshape(dx, 1, 1, Cg);
        end
      end
    end
  end
  dB = reshape(sum(sum(sum(double(dY), 1), 2), 4), 1, 1, []);
end
