function Y = tconv_ref(X, W, B, stride, dilation, crop)
% TCONV_REF  The transposed convolution as a plain loop (not tconv): every
% input pixel scatters its channels, times each tap's F/g x C/g matrix, into
% the uncropped output, which is then cropped. X: H x W x C x N; W: kh x kw x
% F/g x C/g x g (MATLAB's layouts); B: F values or []; crop: [t b l r] (a
% negative bottom or right crop adds bias-only rows or columns). Computed
% in double.
  [Yf, t, l, outH, outW] = tconv_ref_geometry(X, W, stride, dilation, crop);
  X = double(X);
  W = double(W);
  [H, Wd, ~, N] = size(X);
  [kh, kw, Fg, Cg, G] = size(W);
  for n = 1:N
    for g = 1:G
      cs = (g - 1) * Cg + (1:Cg);
      fs = (g - 1) * Fg + (1:Fg);
      for ih = 1:H
        for iw = 1:Wd
          x = reshape(X(ih, iw, cs, n), Cg, 1);
          for i = 1:kh
            oh = (ih - 1) * stride(1) + (i - 1) * dilation(1) + 1;
            for j = 1:kw
              ow = (iw - 1) * stride(2) + (j - 1) * dilation(2) + 1;
              Yf(oh, ow, fs, n) = Yf(oh, ow, fs, n) + ...
                  reshape(reshape(W(i, j, :, :, g), Fg, Cg) * x, 1, 1, Fg);
            end
          end
        end
      end
    end
  end
  Y = Yf(t + (1:outH), l + (1:outW), :, :);
  if ~isempty(B)
    Y = Y + reshape(double(B), 1, 1, []);
  end
end
